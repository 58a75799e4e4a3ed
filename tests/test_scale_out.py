"""The same code on the scale-out parts: PostgreSQL, a Redis queue with a separate `chorus worker`, and S3 (Ceph RGW)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import boto3
import pytest
from sqlalchemy import select

from archive import schema
from archive.consent import Context
from archive.erasure import withdraw_artefact
from archive.models import Artefact, ArtefactKind, ArtefactStatus, ConsentLevel, Role
from archive.principal import Principal, participant_principal
from archive.services import Services
from archive.settings import load_settings
from ingest.accept import Submission, accept_upload
from search.query import search
from tests.conftest import Factory


@pytest.fixture
def scale_out(tmp_path, monkeypatch, fresh_postgres_url, redis_url, rgw_s3):
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, os.devnull)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", rgw_s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", rgw_s3.secret_key)
    bucket = f"chorus-scale-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=rgw_s3.endpoint_url, region_name="eu-west-2")
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    env = {
        "CHORUS_DATA_DIR": str(tmp_path / "data"),
        "CHORUS_DATABASE_URL": fresh_postgres_url,
        "CHORUS_QUEUE_URL": redis_url.replace("/0", f"/{1 + uuid.uuid4().int % 14}"),
        "CHORUS_STORAGE": "s3",
        "CHORUS_S3_BUCKET": bucket,
        "CHORUS_S3_ENDPOINT_URL": rgw_s3.endpoint_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    services = Services(settings)
    schema.upgrade(services.engine)
    services.storage.check()
    from ingest.jobs import bind_services

    bind_services(services)
    worker = subprocess.Popen([sys.executable, "-m", "archive.cli", "worker"], env={**os.environ},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield services, client, bucket
    worker.terminate()
    worker.wait(timeout=30)
    services.close()


def _wait_for(check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def test_upload_processed_by_a_separate_worker_then_withdrawn_and_erased(scale_out):
    from ingest.jobs import process_artefact_job, queue_erasure

    services, client, bucket = scale_out
    with services.session() as db:
        make = Factory(db, services.storage)
        programme = make.programme()
        child = make.participant(make.session(programme))
        make.consent(child, ConsentLevel.TEAM)
        artefact, _ = accept_upload(db, services.storage, participant_principal(child), child,
                                    Submission(kind=ArtefactKind.TEXT_STORY, title="Bus", story="The qqscaleqq bus never comes"))
        process_artefact_job(str(artefact.id))
        artefact_id = artefact.id

    def status():
        with services.session() as db:
            return db.get(Artefact, artefact_id).status

    assert _wait_for(lambda: status() == ArtefactStatus.READY), status()
    team = Principal(kind="staff", user_id=1, roles=frozenset({(programme.id, Role.FACILITATOR)}))
    # The worker wrote the index on its own machine-local folder here, the web reads the same one.
    assert search(services.settings.index_dir, team, Context.TEAM, "qqscaleqq").total == 1

    with services.session() as db:
        withdraw_artefact(db, participant_principal(child), db.get(Artefact, artefact_id))
        db.commit()
        queue_erasure([artefact_id])

    def erased():
        with services.session() as db:
            return db.get(Artefact, artefact_id).erased_at is not None

    assert _wait_for(erased)
    assert search(services.settings.index_dir, team, Context.TEAM, "qqscaleqq").total == 0
    with services.session() as db:
        assert db.scalars(select(Artefact.title).where(Artefact.id == artefact_id)).one() == ""
    listing = client.list_object_versions(Bucket=bucket)
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []
