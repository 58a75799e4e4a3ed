"""Chorus ingest package."""
