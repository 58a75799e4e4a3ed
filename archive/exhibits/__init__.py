"""Exhibits: what young people told us, shown in public only as far as each person's consent allows.

- ``building``: create an exhibit, its sections and items; the picker offers only what may be exhibited.
- ``showing``: which items are live now and what of each the public gets (``shown_items``).
- ``publishing``: the checks before publishing, and what changed since.
- ``static_copy``: the offline zip and the fingerprint that says when a copy is out of date.
- ``iiif``: the IIIF Presentation 3 manifest.

Every public view goes through ``showing.live_items``, which applies the consent gate at read
time, so a withdrawal or a narrower consent takes an item out of every exhibit with its commit.
"""

from __future__ import annotations


class ExhibitError(ValueError):
    """The change cannot be made; the message is fit to show the facilitator, `field` names the input."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field
