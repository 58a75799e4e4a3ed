"""Media on a local or mounted filesystem, written so that a crash never leaves half a file under a key."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator
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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStorage(Storage):
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._tmp = self.root / TEMP_DIR

    def put(self, key: str, source: Source, expected_sha256: str | None = None) -> StoredObject:
        validate_key(key)
        expected = normalise_sha256(expected_sha256)
        self._ensure_dirs()
        with self._disk():
            fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix=_temp_name_prefix(key) + ".")
        tmp = Path(tmp_name)
        try:
            try:
                digest, size = copy_and_hash(source, lambda chunk: self._write_fully(fd, chunk))
                with self._disk():
                    os.fsync(fd)
            finally:
                os.close(fd)
            check_expected(key, digest, expected)
            with self._disk(), open(tmp, "rb") as written:
                if sha256_of_stream(written)[0] != digest:
                    raise ChecksumMismatch(f"{key!r}: bytes read back from {self.root} differ from those written")
            dest = self._path(key)
            with self._disk():
                self._make_parents(dest.parent)
                os.replace(tmp, dest)
                _fsync_dir(dest.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StoredObject(key, digest, size)

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

    def _make_parents(self, directory: Path) -> None:
        missing = []
        while not directory.is_dir():
            missing.append(directory)
            directory = directory.parent
        for directory in reversed(missing):
            with contextlib.suppress(FileExistsError):  # a concurrent put made it first
                directory.mkdir()
            # The new folder's entry must be on disk too, or a crash could lose the file inside it.
            _fsync_dir(directory.parent)

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
            _fsync_dir(self._tmp)

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
        _fsync_dir(directory)

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
