"""Where artefact bytes are kept: local disk by default, an S3-compatible bucket when configured."""

from __future__ import annotations

from archive.settings import Settings
from archive.storage.base import (
    ChecksumMismatch,
    ObjectMissing,
    Storage,
    StorageError,
    StorageUnavailable,
    StoredObject,
)
from archive.storage.local import LocalStorage

__all__ = [
    "ChecksumMismatch",
    "LocalStorage",
    "ObjectMissing",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "make_storage",
]


def make_storage(settings: Settings) -> Storage:
    """The backend the settings choose. Building it touches nothing: call ``check()`` at start-up,
    which also creates the local media folder (a missing one is otherwise reported as an outage)."""
    if settings.storage == "s3":
        # Imported here so a local-only install never loads boto3.
        from archive.storage.s3 import S3Storage

        return S3Storage(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            prefix=settings.s3_prefix,
        )
    return LocalStorage(settings.media_dir)
