"""Media on a local or mounted filesystem, written so that a crash never leaves half a file under a key."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence
from urllib.parse import quote

from archive.storage.base import (
    ChecksumMismatch,
    ObjectMissing,
    Source,
    Storage,
    StorageError,
    StorageUnavailable,
    StoredObject,
    check_expected,
    copy_and_hash,
    normalise_sha256,
    sha256_of_stream,
    validate_key,
    validate_prefix,
)

# Inside the root so that the final rename never crosses filesystems (rename is only atomic within one).
TEMP_DIR = ".tmp"
# Temp names start with the quoted key so erasure can find what a crashed writer left; cut to stay
# under the 255-byte name limit. Quoting keeps prefixes prefixes, and app keys differ well before this.
TEMP_KEY_CHARS = 120
# Errors that mean the store as a whole cannot take writes now, rather than one bad request.
UNAVAILABLE_ERRNOS = {
    errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOENT, errno.ENOTDIR,
}


def _temp_name_prefix(key_or_prefix: str) -> str:
    return quote(key_or_prefix, safe="")[:TEMP_KEY_CHARS]


def _fsync_dirs(paths) -> None:
    fds = []
    try:
        for path in paths:
            fds.append(os.open(path, os.O_RDONLY | os.O_DIRECTORY))
        _fsync_all(fds)
    finally:
        for fd in fds:
            os.close(fd)


def _fsync_all(fds: list[int]) -> None:
    """fsync every descriptor, side by side: the filesystem's journal commits them together, so
    the disk is waited for about once. Returns once all are on disk, raising the first error.

    Short-lived threads rather than a pool: a pool's threads would not survive a fork."""
    errors: list[OSError] = []

    def sync(fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            errors.append(exc)

    helpers = [threading.Thread(target=sync, args=(fd,), name="chorus-fsync") for fd in fds[1:]]
    for helper in helpers:
        helper.start()
    for fd in fds[:1]:
        sync(fd)
    for helper in helpers:
        helper.join()  # every sync ends before any descriptor is closed
    if errors:
        raise errors[0]


@dataclass
class _Staged:
    """An object written to its temp file, not yet synced or in place."""

    stored: StoredObject
    tmp: Path
    fd: int | None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class LocalStorage(Storage):
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._tmp = self.root / TEMP_DIR

    def put(self, key: str, source: Source, expected_sha256: str | None = None) -> StoredObject:
        validate_key(key)
        return self._put_all([(key, source, normalise_sha256(expected_sha256))])[0]

    def put_many(self, items: Sequence[tuple[str, Source]]) -> list[StoredObject]:
        for key, _ in items:
            validate_key(key)
        return self._put_all([(key, source, None) for key, source in items])

    def _put_all(self, items: list[tuple[str, Source, str | None]]) -> list[StoredObject]:
        """Write every object to a temp file, sync them all, rename them into place, sync their
        folders. The disk is waited for twice per batch, not twice per file: the files' syncs
        run side by side, then the folders' (each folder once)."""
        self._ensure_dirs()
        staged: list[_Staged] = []
        try:
            for key, source, expected in items:
                staged.append(self._stage(key, source, expected))
            with self._disk():
                _fsync_all([s.fd for s in staged])
            for s in staged:
                s.close()
                self._verify_written(s)
            folders: set[Path] = set()
            with self._disk():
                for s in staged:
                    dest = self._path(s.stored.key)
                    folders |= self._make_parents(dest.parent)
                    os.replace(s.tmp, dest)
                    folders.add(dest.parent)
                _fsync_dirs(folders)
        except BaseException:
            for s in staged:
                s.close()
                s.tmp.unlink(missing_ok=True)
            raise
        return [s.stored for s in staged]

    def _stage(self, key: str, source: Source, expected: str | None) -> _Staged:
        with self._disk():
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix=_temp_name_prefix(key) + ".")
        tmp = Path(tmp_name)
        try:
            digest, size = copy_and_hash(source, lambda chunk: self._write_fully(fd, chunk))
            check_expected(key, digest, expected)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return _Staged(StoredObject(key, digest, size), tmp, fd)

    def _verify_written(self, staged: _Staged) -> None:
        with self._disk(), open(staged.tmp, "rb") as written:
            if sha256_of_stream(written)[0] != staged.stored.sha256:
                raise ChecksumMismatch(f"{staged.stored.key!r}: bytes read back from {self.root} differ from those written")

    def open(self, key: str) -> BinaryIO:
        validate_key(key)
        try:
            return open(self._path(key), "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            self._require_root()
            raise ObjectMissing(key) from None
        except OSError as exc:
            raise StorageUnavailable(f"local storage {self.root} cannot be read: {exc.strerror or exc}") from exc

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            return stat.S_ISREG(os.stat(self._path(key)).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            self._require_root()
            return False
        except OSError as exc:
            raise StorageUnavailable(f"local storage {self.root} cannot be read: {exc.strerror or exc}") from exc

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix, allow_empty=False)
        self._require_root()
        top = self._path(prefix[:-1])
        removed = 0
        with self._disk():
            self._remove_temp_files(prefix)
            if top.is_dir() and not top.is_symlink():
                for dirpath, dirnames, filenames in os.walk(top, topdown=False):
                    for name in filenames:
                        os.unlink(os.path.join(dirpath, name))
                        removed += 1
                    for name in dirnames:
                        os.rmdir(os.path.join(dirpath, name))
                top.rmdir()
            self._prune_empty_parents(top.parent)
        return removed

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix, allow_empty=True)
        self._require_root()
        top = self._path(prefix[:-1]) if prefix else self.root
        for dirpath, dirnames, filenames in os.walk(top, onerror=self._walk_error):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            relative = Path(dirpath).relative_to(self.root)
            for name in filenames:
                if not name.startswith("."):
                    yield (relative / name).as_posix()

    def url_for_download(self, key: str, seconds: int) -> None:
        validate_key(key)
        return None

    def check(self) -> None:
        self._ensure_dirs()
        try:
            fd, probe = tempfile.mkstemp(dir=self._tmp, prefix=".check.")
            try:
                os.write(fd, b"probe")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            raise StorageUnavailable(f"local storage {self.root} is not writable: {exc.strerror or exc}") from exc

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _write_fully(self, fd: int, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            with self._disk():
                written = os.write(fd, view)
            view = view[written:]

    def _make_parents(self, directory: Path) -> set[Path]:
        """Create the missing folders down to `directory`; returns the folders whose entries changed.

        A new folder's entry must be synced too, or a crash could lose the file inside it.
        """
        missing = []
        while not directory.is_dir():
            missing.append(directory)
            directory = directory.parent
        for directory in reversed(missing):
            with contextlib.suppress(FileExistsError):  # a concurrent put made it first
                directory.mkdir()
        return {directory.parent for directory in missing}

    def _remove_temp_files(self, prefix: str) -> None:
        name_prefix = _temp_name_prefix(prefix)
        try:
            entries = [e for e in os.scandir(self._tmp) if e.name.startswith(name_prefix)]
        except FileNotFoundError:
            return
        for entry in entries:
            # A put still writing this file fails at its rename: erasure wins over a late upload.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
        if entries:
            _fsync_dirs([self._tmp])

    def _prune_empty_parents(self, directory: Path) -> None:
        while directory != self.root:
            try:
                directory.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                break  # not empty: other artefacts live here
            directory = directory.parent
        # Without this a crash could bring back the erased names.
        _fsync_dirs([directory])

    def _ensure_dirs(self) -> None:
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"local storage {self.root} is not usable: {exc.strerror or exc}") from exc

    def _require_root(self) -> None:
        if not self.root.is_dir():
            raise StorageUnavailable(f"local storage {self.root} is missing or not a directory")

    def _walk_error(self, exc: OSError) -> None:
        if not isinstance(exc, FileNotFoundError):  # a folder erased while we walk is simply gone
            raise StorageUnavailable(f"local storage {self.root} cannot be listed: {exc.strerror or exc}") from exc

    @contextlib.contextmanager
    def _disk(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            if exc.errno in UNAVAILABLE_ERRNOS:
                raise StorageUnavailable(f"local storage {self.root} cannot be written: {exc.strerror or exc}") from exc
            raise StorageError(f"local storage {self.root}: {exc}") from exc
