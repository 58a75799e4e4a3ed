"""Chorus: a consented archive of children's and families' voices."""

__version__ = "0.1.0"
