"""Chorus media package."""
