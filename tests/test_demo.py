"""`chorus demo`: the README's first command loads invented people and real media through the real
pipeline (Whisper included), and `chorus serve` then serves it."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import uuid
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.cli import main
from archive.consent import Context
from archive.models import Artefact, ArtefactStatus, ConsentLevel, Programme, Role
from archive.principal import Principal
from archive.services import Services
from archive.settings import load_settings
from search.query import search

CONTENT = json.loads((Path(__file__).parents[1] / "archive" / "demo" / "content.json").read_text())


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo") / "data"
    env = {"CHORUS_DATA_DIR": str(data)}
    result = CliRunner().invoke(main, ["demo", "--no-serve"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    services = Services(load_settings(data_dir=data))
    yield data, result.output, services
    services.close()


def test_demo_loads_every_item_through_the_pipeline(demo):
    _, output, services = demo
    with services.session() as db:
        statuses = db.scalars(select(Artefact.status)).all()
    assert statuses.count(ArtefactStatus.READY) == len(CONTENT["artefacts"]) - 1
    assert statuses.count(ArtefactStatus.WITHDRAWN) == 1
    assert "password:" in output and re.search(r"[A-Z0-9]{6}  Photos and drawings", output)


def test_demo_consent_matches_what_each_history_should_give(demo):
    _, _, services = demo
    with services.session() as db:
        by_title = {a.title: a for a in db.scalars(select(Artefact))}
    for item in CONTENT["artefacts"]:
        expect = item["demo_expect"]
        if expect["level"] == "none":
            continue  # the withdrawn story is a tombstone now, with no title to find it by
        artefact = by_title[item["title"]]
        assert artefact.consent_level == ConsentLevel.parse(expect["level"]), item["key"]
        assert (artefact.consent_credit, artefact.consent_face, artefact.consent_voice) == (
            expect["credit"], expect["face"], expect["voice"]), item["key"]


def test_demo_voice_notes_are_transcribed_by_whisper(demo):
    _, _, services = demo
    with services.session() as db:
        texts = {a.title: a.transcript.text.lower() for a in db.scalars(select(Artefact)) if a.transcript}
    assert "afford" in texts["Walking to school"] and "raining" in texts["Walking to school"]
    assert "rent" in texts["After the rent"] and "food" in texts["After the rent"]


def test_demo_media_carry_no_location_and_pass_fsck(demo):
    data, _, _ = demo
    tags = CONTENT["canaries"]["exif_gps"]["text_tags"]
    canaries = [tags["ImageDescription"].encode(), tags["Make"].encode(), tags["Model"].encode()]
    for path in (data / "media").rglob("*"):
        if path.is_file():
            assert not any(c in path.read_bytes() for c in canaries), path
    result = CliRunner().invoke(main, ["fsck", "--json"], env={"CHORUS_DATA_DIR": str(data)})
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["clean"] and report["expected_absent"] == 1


def test_demo_search_respects_consent(demo):
    _, _, services = demo
    with services.session() as db:
        programme = db.scalar(select(Programme))
    analyst = Principal(kind="staff", user_id=1, roles=frozenset({(programme.id, Role.ANALYST)}))
    team = Principal(kind="staff", user_id=2, roles=frozenset({(programme.id, Role.FACILITATOR)}))
    as_analyst = search(services.settings.index_dir, analyst, Context.ANALYSIS, "")
    as_team = search(services.settings.index_dir, team, Context.TEAM, "")
    assert 0 < as_analyst.total < as_team.total
    with services.session() as db:
        for hit in as_analyst.hits:
            assert db.get(Artefact, uuid.UUID(hit.id)).consent_level >= ConsentLevel.REPORT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_served_demo_signs_staff_in_and_shows_items(demo):
    data, output, _ = demo
    email, password = re.search(r"(jade\.\S+) \(facilitator\) password: (\S+)", output).groups()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "archive.cli", "serve", "--port", str(port)],
                              env={"CHORUS_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        for _ in range(100):
            try:
                health = json.load(opener.open(f"{base}/api/health", timeout=2))
                break
            except OSError:
                time.sleep(0.2)
        assert health["status"] == "ok", health
        page = opener.open(f"{base}/staff/sign-in").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        landed = opener.open(f"{base}/staff/sign-in", data=body).read().decode()
        assert "Riverside Child Health Listening" in landed
        programme = opener.open(f"{base}/staff/programmes/{CONTENT['programme']['code']}").read().decode()
        assert "Walking to school" in programme and "My dad" not in programme
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_reindex_rebuilds_the_same_search_from_the_database(demo):
    data, _, services = demo
    with services.session() as db:
        programme = db.scalar(select(Programme))
    team = Principal(kind="staff", user_id=2, roles=frozenset({(programme.id, Role.FACILITATOR)}))
    before = search(services.settings.index_dir, team, Context.TEAM, "bus")
    result = CliRunner().invoke(main, ["reindex", "--json"], env={"CHORUS_DATA_DIR": str(data)})
    assert result.exit_code == 0 and json.loads(result.output)["indexed"] == len(CONTENT["artefacts"]) - 1
    after = search(services.settings.index_dir, team, Context.TEAM, "bus")
    assert before.total > 0 and sorted(h.id for h in after.hits) == sorted(h.id for h in before.hits)
