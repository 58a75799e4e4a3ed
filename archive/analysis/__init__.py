"""Counts, charts, the map and reach for analysts: plain functions over the consent-filtered database."""
