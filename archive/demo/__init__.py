"""Invented demo content for Chorus: content.json and the media it references (see MEDIA.md)."""
