"""Media in an S3-compatible bucket (AWS, Ceph RGW, ...) through boto3.

Credentials come from boto3's usual chain (AWS_* variables, shared config files, instance roles);
this module never takes them as arguments. Versioning is the bucket owner's choice; erasure works
either way because it deletes by version.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from typing import BinaryIO, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotoConnectionError

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

DELETE_BATCH = 1000  # the most keys one DeleteObjects request accepts
# Writes racing an erasure can add versions after a listing; give up loudly rather than loop forever.
ERASE_ROUNDS = 5
PROBE_FOLDER = ".chorus-check/"
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60
DENIED_CODES = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}


class S3Storage(Storage):
    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "eu-west-2",
        prefix: str = "",
        *,
        attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        # A folder inside the bucket that holds everything of this app ("" for the whole bucket).
        self.prefix = validate_prefix(prefix if not prefix or prefix.endswith("/") else prefix + "/", allow_empty=True)
        config = Config(
            region_name=region,
            signature_version="s3v4",
            # Path style works with every S3 clone and with bucket names that are not DNS-safe.
            s3={"addressing_style": "path"},
            # Counts the first try too; standard mode backs off with jitter between tries.
            retries={"mode": "standard", "total_max_attempts": attempts},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        # A session of our own: boto3's default session is not safe to share between threads.
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=config)

    @property
    def _where(self) -> str:
        return f"S3 bucket {self.bucket!r} at {self.client.meta.endpoint_url}"

    def put(self, key: str, source: Source, expected_sha256: str | None = None) -> StoredObject:
        validate_key(key)
        expected = normalise_sha256(expected_sha256)
        name = self.prefix + key
        # Spool first so a wrong checksum is caught before anything reaches the bucket: on a
        # versioned bucket even a deleted upload would leave a version behind. The spool is
        # unlinked from the start, so a crash leaves no copy on local disk either.
        with tempfile.TemporaryFile() as spool:
            digest, size = copy_and_hash(source, lambda chunk: self._spool_write(spool, key, chunk))
            check_expected(key, digest, expected)
            spool.seek(0)
            with self._errors(key):
                # Single PUT or multipart; a failed multipart is aborted, so no part is kept.
                self.client.upload_fileobj(spool, self.bucket, name)
                self._verify_read_back(key, name, digest)
        return StoredObject(key, digest, size)

    def open(self, key: str) -> BinaryIO:
        validate_key(key)
        with self._errors(key):
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"]

    def exists(self, key: str) -> bool:
        validate_key(key)
        with self._errors(key):
            try:
                self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
                return True
            except ClientError as exc:
                if exc.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
                    raise
            # HEAD gives a bodiless 404 for a missing bucket too; that is an outage, not an absence.
            self.client.head_bucket(Bucket=self.bucket)
            return False

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix, allow_empty=False)
        name = self.prefix + prefix
        removed = 0
        with self._errors():
            for _ in range(ERASE_ROUNDS):
                self._abort_uploads(name)
                entries = list(self._versions(name))
                if not entries:
                    return removed
                for start in range(0, len(entries), DELETE_BATCH):
                    batch = entries[start : start + DELETE_BATCH]
                    response = self.client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                    )
                    if response.get("Errors"):
                        first = response["Errors"][0]
                        raise StorageError(
                            f"{self._where}: erasing {prefix!r} failed for {len(response['Errors'])} "
                            f"version(s), first {first.get('Key')!r}: {first.get('Code')} {first.get('Message')}"
                        )
                    removed += len(batch)
        raise StorageError(f"{self._where}: versions under {prefix!r} keep reappearing; erasure not complete")

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix, allow_empty=True)
        with self._errors():
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    if not key.startswith("."):
                        yield key

    def url_for_download(self, key: str, seconds: int) -> str:
        validate_key(key)
        if seconds < 1:
            raise ValueError("a download URL must be valid for at least one second")
        with self._errors(key):
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self.prefix + key}, ExpiresIn=int(seconds)
            )

    def check(self) -> None:
        probe = f"{self.prefix}{PROBE_FOLDER}{uuid.uuid4()}"
        with self._errors():
            version = self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"").get("VersionId")
            self._delete_exact(probe, version)

    def _spool_write(self, spool: BinaryIO, key: str, chunk: bytes) -> None:
        try:
            spool.write(chunk)
        except OSError as exc:
            reason = exc.strerror or exc
            raise StorageUnavailable(f"cannot stage {key!r} for upload in the temp folder: {reason}") from exc

    def _verify_read_back(self, key: str, name: str, digest: str) -> None:
        response = self.client.get_object(Bucket=self.bucket, Key=name)
        with response["Body"] as body:
            stored = sha256_of_stream(body)[0]
        if stored != digest:
            # Keys are written by one job at a time, so the version just read is the one just written.
            self._delete_exact(name, response.get("VersionId"))
            raise ChecksumMismatch(
                f"{key!r}: {self._where} returned sha256 {stored} for bytes sent as {digest}; upload removed"
            )

    def _delete_exact(self, name: str, version: str | None) -> None:
        # Deleting by version removes it outright; without a version a versioned bucket adds a marker.
        self.client.delete_object(Bucket=self.bucket, Key=name, **({"VersionId": version} if version else {}))

    def _versions(self, name: str) -> Iterator[dict]:
        for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=name):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                yield {"Key": entry["Key"], "VersionId": entry["VersionId"]}

    def _abort_uploads(self, name: str) -> None:
        # Parts of an unfinished upload hold bytes too, and no version listing shows them.
        for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=name):
            for upload in page.get("Uploads", []):
                try:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "NoSuchUpload":  # finished or aborted meanwhile
                        raise

    @contextlib.contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        try:
            yield
        except NoCredentialsError as exc:
            raise StorageUnavailable(
                f"{self._where}: no S3 credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or AWS_PROFILE)"
            ) from exc
        except (BotoConnectionError, HTTPClientError) as exc:
            raise StorageUnavailable(f"{self._where} is unreachable: {exc}") from exc
        except ClientError as exc:
            raise self._translate(exc, key) from exc

    def _translate(self, exc: ClientError, key: str | None) -> StorageError:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code == "NoSuchBucket" or (exc.operation_name == "HeadBucket" and status == 404):
            return StorageUnavailable(f"{self._where}: the bucket does not exist")
        if key is not None and (code == "NoSuchKey" or status == 404):
            return ObjectMissing(key)
        if code in DENIED_CODES or status in (401, 403):
            return StorageUnavailable(f"{self._where} refused access ({code or status}): check credentials and policy")
        if status >= 500 or code in ("SlowDown", "ServiceUnavailable"):
            return StorageUnavailable(f"{self._where} is failing: {status} {code}")
        return StorageError(f"{self._where}: {exc.operation_name} failed: {code} {exc}")
