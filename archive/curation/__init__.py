"""Facilitators' review of what comes in: transcripts, themes, and whether an item may leave the team."""
