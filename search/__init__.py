"""Chorus search package."""
