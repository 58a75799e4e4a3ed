"""One contract, three stores: local disk, S3 on moto (fast, in-process) and S3 on a real Ceph RGW.

Each test gets a fresh store: a temp folder, or a new *versioned* bucket with an app prefix, so
the erasure checks see every version, delete marker and unfinished upload in the whole bucket.
Every test writes a unique canary; "erased" means a byte search of everything stored finds none.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import socket
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from archive.settings import Settings
from archive.storage import make_storage
from archive.storage.base import ChecksumMismatch, ObjectMissing, Storage, StorageError, StorageUnavailable
from archive.storage.local import LocalStorage
from archive.storage.s3 import S3Storage
from tests.servers.rgw import S3Endpoint

REGION = "eu-west-2"
APP_PREFIX = "chorus/"
BIG = 9 * 1024 * 1024  # above boto3's 8 MiB multipart threshold and several local write chunks
CRASH_EXIT = 86


class LocalHarness:
    versioned = False

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "media"
        self.root.mkdir()  # as check() does at app start; a missing root reads as an outage
        self.tmp_path = tmp_path
        self.storage = self.make()

    def make(self) -> Storage:
        return LocalStorage(self.root)

    def unreachable(self) -> tuple[Storage, str]:
        """A store that cannot work, and the place its errors must name."""
        blocker = self.tmp_path / "not-a-folder"
        blocker.write_bytes(b"")
        return LocalStorage(blocker / "media"), str(blocker / "media")

    def absent(self) -> Storage:
        return LocalStorage(self.tmp_path / "never-created")

    def fail_midway(self, storage: Storage, monkeypatch: pytest.MonkeyPatch, crash: bool) -> None:
        real_write, calls = os.write, []

        def write(fd: int, data) -> int:
            calls.append(fd)
            if len(calls) == 2:
                if crash:
                    os._exit(CRASH_EXIT)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", write)

    def corrupt_writes(self, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
        real_write = os.write

        def write(fd: int, data) -> int:
            flipped = bytes([data[0] ^ 0xFF]) + bytes(data[1:])
            return real_write(fd, flipped)

        monkeypatch.setattr(os, "write", write)

    def naive_delete(self, key: str) -> None:
        (self.root / key).unlink()

    def stored_entries(self, prefix: str) -> list[str]:
        top = self.root / prefix
        return sorted(p.relative_to(self.root).as_posix() for p in top.rglob("*") if p.is_file())

    def leftovers(self) -> list[str]:
        tmp = self.root / ".tmp"
        return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []

    def grep(self, needle: bytes) -> list[str]:
        return sorted(str(p) for p in self.root.rglob("*") if p.is_file() and needle in p.read_bytes())


class S3Harness:
    versioned = True

    def __init__(self, name: str, endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
        self.endpoint = endpoint
        # The storage finds credentials the way production does: boto3's chain, here the environment.
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", endpoint.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", endpoint.secret_key)
        monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        self.raw = boto3.client(
            "s3", endpoint_url=endpoint.endpoint_url, region_name=REGION,
            aws_access_key_id=endpoint.access_key, aws_secret_access_key=endpoint.secret_key,
            config=Config(s3={"addressing_style": "path"}),
        )
        self.bucket = f"chorus-{uuid.uuid4().hex[:16]}"
        # moto insists on a location outside us-east-1; RGW rejects any that is not its zonegroup's.
        where = {"CreateBucketConfiguration": {"LocationConstraint": REGION}} if name == "moto" else {}
        self.raw.create_bucket(Bucket=self.bucket, **where)
        self.raw.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        self.storage = self.make()

    def make(self) -> S3Storage:
        return S3Storage(self.bucket, self.endpoint.endpoint_url, REGION, APP_PREFIX)

    def unreachable(self) -> tuple[Storage, str]:
        with socket.socket() as sock:  # a port nobody listens on once the socket is closed
            sock.bind(("127.0.0.1", 0))
            endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return S3Storage(self.bucket, endpoint, REGION, APP_PREFIX, attempts=1), endpoint

    def absent(self) -> Storage:
        return S3Storage(f"chorus-absent-{uuid.uuid4().hex[:12]}", self.endpoint.endpoint_url, REGION, APP_PREFIX)

    def fail_midway(self, storage: S3Storage, monkeypatch: pytest.MonkeyPatch, crash: bool) -> None:
        def second_part(params, **kwargs) -> None:
            if params.get("PartNumber") == 2:
                if crash:
                    os._exit(CRASH_EXIT)
                raise EndpointConnectionError(endpoint_url=self.endpoint.endpoint_url)

        storage.client.meta.events.register("before-parameter-build.s3.UploadPart", second_part)

    def corrupt_writes(self, storage: S3Storage, monkeypatch: pytest.MonkeyPatch) -> None:
        def swap_body(params, **kwargs) -> None:
            params["Body"] = b"not the bytes that were hashed"

        storage.client.meta.events.register("before-parameter-build.s3.PutObject", swap_body)

    def naive_delete(self, key: str) -> None:
        self.raw.delete_object(Bucket=self.bucket, Key=APP_PREFIX + key)

    def _all_versions(self, prefix: str = "") -> list[dict]:
        found = []
        for page in self.raw.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
            found += page.get("Versions", []) + page.get("DeleteMarkers", [])
        return found

    def stored_entries(self, prefix: str) -> list[str]:
        return sorted(f"{v['Key']}@{v['VersionId']}" for v in self._all_versions(APP_PREFIX + prefix))

    def leftovers(self) -> list[str]:
        uploads = self.raw.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])
        return sorted(u["Key"] for u in uploads)

    def grep(self, needle: bytes) -> list[str]:
        hits = []
        for v in self._all_versions():
            if "ETag" not in v:
                continue  # a delete marker holds no bytes
            body = self.raw.get_object(Bucket=self.bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
            if needle in body:
                hits.append(f"{v['Key']}@{v['VersionId']}")
        return hits


@pytest.fixture(params=["local", "moto", "rgw"])
def store(request, tmp_path, monkeypatch):
    if request.param == "local":
        return LocalHarness(tmp_path)
    return S3Harness(request.param, request.getfixturevalue(f"{request.param}_s3"), monkeypatch)


@pytest.fixture(scope="module", params=["local", "s3"])
def offline_storage(request, tmp_path_factory) -> Storage:
    """A store for checks that must fail before any I/O; a forgotten check would hit a closed port."""
    if request.param == "local":
        return LocalStorage(tmp_path_factory.mktemp("offline"))
    return S3Storage("unused-bucket", "http://127.0.0.1:9", REGION, APP_PREFIX, attempts=1)


@pytest.fixture
def canary() -> bytes:
    return f"CANARY-{uuid.uuid4()}".encode()


def new_prefix() -> str:
    return f"artefacts/{uuid.uuid4()}/"


def payload(canary: bytes, size: int = 4096) -> bytes:
    return canary + os.urandom(size - len(canary))


class FailingSource(io.RawIOBase):
    """A client upload that breaks off after its first chunk."""

    def __init__(self, first: bytes) -> None:
        self.first = first
        self.done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.done:
            raise OSError(errno.ECONNRESET, "client went away")
        self.done = True
        return self.first


def test_round_trip_keeps_bytes_and_sha256(store, canary):
    data = payload(canary, 200_000)
    key = new_prefix() + "master"
    stored = store.storage.put(key, io.BytesIO(data), expected_sha256=hashlib.sha256(data).hexdigest().upper())
    assert (stored.key, stored.sha256, stored.size) == (key, hashlib.sha256(data).hexdigest(), len(data))
    with store.storage.open(key) as stream:
        assert stream.read() == data
    assert store.storage.sha256(key) == stored.sha256
    assert store.storage.exists(key)
    assert list(store.storage.iter_keys(key.rsplit("/", 1)[0] + "/")) == [key]
    assert list(store.storage.iter_keys()) == [key]


def test_key_with_space_from_a_path(store, canary, tmp_path):
    source = tmp_path / "upload.bin"
    source.write_bytes(payload(canary))
    key = new_prefix() + "derivatives/voice note.m4a"
    store.storage.put(key, source)
    assert store.storage.sha256(key) == hashlib.sha256(source.read_bytes()).hexdigest()
    assert list(store.storage.iter_keys()) == [key]


def test_a_batch_is_stored_whole_and_in_order(store, canary):
    prefix = new_prefix()
    contents = {prefix + "master": payload(canary, BIG), prefix + "derivatives/web_image": payload(canary),
                prefix + "derivatives/thumbnail": b"thumb"}
    stored = store.storage.put_many([(key, io.BytesIO(data)) for key, data in contents.items()])
    assert [(s.key, s.sha256, s.size) for s in stored] == [
        (key, hashlib.sha256(data).hexdigest(), len(data)) for key, data in contents.items()]
    for key, data in contents.items():
        with store.storage.open(key) as stream:
            assert stream.read() == data
    assert sorted(store.storage.iter_keys(prefix)) == sorted(contents)
    assert store.leftovers() == []


def test_a_batch_broken_off_midway_leaves_nothing_half_written(store, canary):
    prefix = new_prefix()
    with pytest.raises(OSError):
        store.storage.put_many([(prefix + "master", io.BytesIO(b"whole")),
                                (prefix + "derivatives/web_image", FailingSource(payload(canary)))])
    assert store.leftovers() == [] and store.grep(canary) == []
    # An object stored before the failure is whole; the local store renames nothing until all are written.
    expected = [] if isinstance(store, LocalHarness) else [prefix + "master"]
    assert list(store.storage.iter_keys(prefix)) == expected
    for key in expected:
        assert store.storage.sha256(key) == hashlib.sha256(b"whole").hexdigest()


def test_local_batch_syncs_files_before_renaming_and_each_folder_once_after(tmp_path, monkeypatch):
    storage = LocalStorage(tmp_path / "media")
    (tmp_path / "media").mkdir()
    prefix = new_prefix()
    keys = [prefix + "master", prefix + "derivatives/web_image", prefix + "derivatives/thumbnail"]
    synced, real_fsync = [], os.fsync

    def spying_fsync(fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        in_place = [key for key in keys if (storage.root / key).exists()]
        synced.append((path, in_place))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spying_fsync)
    storage.put_many([(key, io.BytesIO(key.encode())) for key in keys])

    files = [(path, in_place) for path, in_place in synced if path.is_file() or path.parent.name == ".tmp"]
    folders = [(path, in_place) for path, in_place in synced if (path, in_place) not in files]
    # Each file is synced in its temp folder while nothing is in place yet: no half-synced object under a key.
    assert len(files) == 3 and all(path.parent == storage.root / ".tmp" and in_place == [] for path, in_place in files)
    # Then every folder that gained an entry is synced once, after every object is in place.
    root = storage.root
    assert sorted(path for path, _ in folders) == sorted(
        [root, root / "artefacts", root / prefix.rstrip("/"), root / prefix / "derivatives"])
    assert all(in_place == keys for _, in_place in folders)


@pytest.mark.parametrize(
    "key",
    ["", "/artefacts/x", "artefacts/../x", "..", "artefacts/./x", "artefacts//x", "artefacts/x/",
     "artefacts\\x", "artefacts/x\x00", "artefacts/x\nmaster", "artefacts/\x7f", ".tmp/x", "a" * 600],
)
def test_unsafe_keys_are_rejected(offline_storage, key):
    with pytest.raises(ValueError):
        offline_storage.put(key, io.BytesIO(b"x"))
    for method in (offline_storage.open, offline_storage.exists, offline_storage.sha256):
        with pytest.raises(ValueError):
            method(key)
    with pytest.raises(ValueError):
        offline_storage.url_for_download(key, 60)


@pytest.mark.parametrize("prefix", ["", "/", "artefacts/x", "/artefacts/x/", "artefacts/../", "artefacts//"])
def test_erasure_and_listing_need_a_folder_prefix(offline_storage, prefix):
    with pytest.raises(ValueError):
        offline_storage.delete_prefix(prefix)
    if prefix:  # "" lists everything
        with pytest.raises(ValueError):
            list(offline_storage.iter_keys(prefix))


def test_upload_broken_off_by_the_client_leaves_nothing(store, canary):
    key = new_prefix() + "master"
    with pytest.raises(OSError):
        store.storage.put(key, FailingSource(payload(canary)))
    assert not store.storage.exists(key)
    assert store.leftovers() == [] and store.stored_entries("") == [] and store.grep(canary) == []


def test_store_failing_midway_leaves_nothing(store, canary, monkeypatch):
    key = new_prefix() + "master"
    store.fail_midway(store.storage, monkeypatch, crash=False)
    with pytest.raises(StorageUnavailable):
        store.storage.put(key, io.BytesIO(payload(canary, BIG)))
    assert not store.storage.exists(key)
    assert store.leftovers() == [] and store.stored_entries("") == [] and store.grep(canary) == []


def test_checksum_mismatch_stores_nothing_and_keeps_the_old_object(store, canary):
    key = new_prefix() + "master"
    original = store.storage.put(key, io.BytesIO(b"original bytes"))
    entries = store.stored_entries("")
    with pytest.raises(ChecksumMismatch):
        store.storage.put(key, io.BytesIO(payload(canary)), expected_sha256="0" * 64)
    assert store.storage.sha256(key) == original.sha256
    assert store.stored_entries("") == entries
    assert store.leftovers() == [] and store.grep(canary) == []


def test_corruption_on_the_way_in_is_caught_and_removed(store, canary, monkeypatch):
    key = new_prefix() + "master"
    store.corrupt_writes(store.storage, monkeypatch)
    with pytest.raises(ChecksumMismatch):
        store.storage.put(key, io.BytesIO(payload(canary)))
    assert not store.storage.exists(key)
    assert store.stored_entries("") == [] and store.leftovers() == []


def test_erasure_removes_every_version_and_delete_marker(store, canary):
    prefix = new_prefix()
    store.storage.put(prefix + "master", io.BytesIO(payload(canary)))
    store.storage.put(prefix + "master", io.BytesIO(payload(canary)))
    store.storage.put(prefix + "derivatives/thumb.jpg", io.BytesIO(payload(canary)))
    store.naive_delete(prefix + "derivatives/thumb.jpg")
    assert not store.storage.exists(prefix + "derivatives/thumb.jpg")
    before = store.stored_entries(prefix)
    if store.versioned:
        # The plain delete only hid the thumbnail: 3 versions and a marker still hold the canary.
        assert len(before) == 4 and len(store.grep(canary)) == 3

    assert store.storage.delete_prefix(prefix) == len(before)

    assert store.stored_entries(prefix) == [] and store.grep(canary) == []
    assert list(store.storage.iter_keys()) == []
    assert store.storage.delete_prefix(prefix) == 0
    if isinstance(store, LocalHarness):
        assert [p.name for p in store.root.iterdir()] == [".tmp"]  # emptied folders went too


def test_erasure_after_a_crashed_upload_removes_what_it_left(store, canary, monkeypatch):
    prefix = new_prefix()
    pid = os.fork()
    if pid == 0:
        try:
            child = store.make()
            store.fail_midway(child, monkeypatch, crash=True)
            child.put(prefix + "master", io.BytesIO(payload(canary, BIG)))
        finally:
            os._exit(1)  # only reached if the crash never came
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == CRASH_EXIT
    assert store.leftovers() != []  # the crash did leave a temp file / an unfinished upload

    store.storage.delete_prefix(prefix)

    assert store.leftovers() == [] and store.stored_entries("") == [] and store.grep(canary) == []


def test_erasing_one_of_two_identical_uploads_keeps_the_other(store, canary):
    data = payload(canary)
    first, second = new_prefix(), new_prefix()
    store.storage.put(first + "master", io.BytesIO(data))
    kept = store.storage.put(second + "master", io.BytesIO(data))
    store.storage.delete_prefix(first)
    assert not store.storage.exists(first + "master")
    assert store.storage.sha256(second + "master") == kept.sha256
    assert len(store.grep(canary)) == 1


def test_erasure_stays_inside_its_folder(store):
    store.storage.put("artefacts/1/master", io.BytesIO(b"one"))
    store.storage.put("artefacts/10/master", io.BytesIO(b"ten"))
    assert store.storage.delete_prefix("artefacts/1/") == 1
    assert list(store.storage.iter_keys()) == ["artefacts/10/master"]


def test_missing_object(store):
    key = new_prefix() + "master"
    assert not store.storage.exists(key)
    with pytest.raises(ObjectMissing):
        store.storage.open(key)
    with pytest.raises(ObjectMissing):
        store.storage.sha256(key)
    assert list(store.storage.iter_keys(key.rsplit("/", 1)[0] + "/")) == []


def test_unreachable_store_is_reported_not_mistaken_for_missing_objects(store):
    down, where = store.unreachable()
    key = new_prefix() + "master"
    with pytest.raises(StorageUnavailable, match=r"is not usable|is unreachable") as info:
        down.check()
    assert where in str(info.value)
    for call in (
        lambda: down.put(key, io.BytesIO(b"x")),
        lambda: down.open(key),
        lambda: down.exists(key),
        lambda: down.delete_prefix(new_prefix()),
        lambda: list(down.iter_keys()),
    ):
        with pytest.raises(StorageUnavailable):
            call()


def test_missing_bucket_or_folder_is_an_outage_not_an_empty_store(store):
    absent = store.absent()
    key = new_prefix() + "master"
    for call in (
        lambda: absent.exists(key),
        lambda: absent.open(key),
        lambda: absent.delete_prefix(new_prefix()),
        lambda: list(absent.iter_keys()),
    ):
        with pytest.raises(StorageUnavailable, match="does not exist|missing"):
            call()


def test_check_passes_and_leaves_nothing_behind(store):
    store.storage.check()
    assert store.stored_entries("") == [] and store.leftovers() == []
    assert list(store.storage.iter_keys()) == []


def test_download_url_serves_the_bytes(store, canary):
    data = payload(canary)
    key = new_prefix() + "derivatives/poster frame.jpg"
    store.storage.put(key, io.BytesIO(data))
    url = store.storage.url_for_download(key, 60)
    if isinstance(store, LocalHarness):
        assert url is None  # the app streams local media itself
        return
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == data
    store.storage.delete_prefix(key.split("derivatives/")[0])
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, timeout=10)
    assert info.value.code == 404  # a link handed out before erasure stops working with it


@pytest.mark.parametrize("store", ["rgw"], indirect=True)  # moto accepts any signature and expiry
def test_presigned_url_rejects_tampering_and_expiry(store):
    key = new_prefix() + "master"
    store.storage.put(key, io.BytesIO(b"private"))
    url = store.storage.url_for_download(key, 60)
    signature = url.rsplit("X-Amz-Signature=", 1)[1][:64]
    tampered = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    short = store.storage.url_for_download(key, 1)
    time.sleep(2.1)
    for bad in (tampered, short):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(bad, timeout=10)
        assert info.value.code == 403
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"private"


@pytest.mark.parametrize("store", ["rgw"], indirect=True)  # moto accepts any secret
def test_wrong_secret_is_reported_as_unavailable(store, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-" + store.endpoint.secret_key)
    with pytest.raises(StorageUnavailable, match="refused access"):
        store.make().check()


def test_make_storage_follows_the_settings(tmp_path):
    local = make_storage(Settings(data_dir=tmp_path, secret_key="x"))
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "media"
    s3 = make_storage(
        Settings(data_dir=tmp_path, secret_key="x", storage="s3", s3_bucket="media",
                 s3_endpoint_url="http://127.0.0.1:9", s3_region="eu-west-1", s3_prefix="chorus")
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix, s3.client.meta.endpoint_url, s3.client.meta.region_name) == (
        "media", "chorus/", "http://127.0.0.1:9", "eu-west-1",
    )


def test_storage_errors_share_one_base():
    assert all(issubclass(e, StorageError) for e in (ObjectMissing, ChecksumMismatch, StorageUnavailable))
