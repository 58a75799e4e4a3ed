"""Uploads through the JSON API: what a participant's phone uses to retry and resume without duplicates."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from archive.models import Artefact, ConsentLevel, Participant
from tests.conftest import csrf_token, join_as_participant


def _joined(client, make, db, alias="Api Fox"):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias=alias)
    participant = db.scalar(select(Participant).where(Participant.alias == alias))
    make.consent(participant, ConsentLevel.TEAM)
    return {"X-CSRFToken": csrf_token(client.get("/consent").text)}


def _photo() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 120, 40)).save(buffer, "JPEG")
    buffer.seek(0)
    return buffer


def test_retried_upload_is_one_artefact_and_reports_its_processing(client, make, db):
    headers = _joined(client, make, db)
    form = {"kind": "photo", "title": "Broken swing", "story": "It has been broken for ages", "upload_id": "phone-0001-abcdef"}
    first = client.post("/api/uploads", data=form | {"media": (_photo(), "swing.jpg")}, headers=headers)
    again = client.post("/api/uploads", data=form | {"media": (_photo(), "swing.jpg")}, headers=headers)
    assert first.status_code == 201 and first.json["created"] is True
    assert again.status_code == 200 and again.json["id"] == first.json["id"] and again.json["created"] is False
    assert db.scalar(select(func.count(Artefact.id))) == 1
    status = client.get(f"/api/uploads/{first.json['id']}").json
    assert status["status"] == "ready"
    assert [(s["step"], s["state"]) for s in status["steps"]] == [("derivatives", "done"), ("extract_text", "done"), ("tag", "done"), ("index", "done")]


def test_api_refusals_are_json_with_a_clear_message(client, make, db):
    headers = _joined(client, make, db, alias="Api Owl")
    wrong = client.post("/api/uploads", data={"kind": "photo", "media": (io.BytesIO(b"<html></html>"), "x.jpg")}, headers=headers)
    assert wrong.status_code == 415 and "web page" in wrong.json["error"]
    bad_kind = client.post("/api/uploads", data={"kind": "hologram"}, headers=headers)
    assert bad_kind.status_code == 400 and "kind must be" in bad_kind.json["error"]
    no_token = client.post("/api/uploads", data={"kind": "text_story", "story": "hi"})
    assert no_token.status_code == 400
    assert db.scalar(select(func.count(Artefact.id))) == 0


def test_api_needs_a_joined_participant(app):
    anonymous = app.test_client()
    response = anonymous.get("/api/uploads/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 401 and "join your session" in response.json["error"]
