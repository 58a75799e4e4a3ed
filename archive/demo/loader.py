"""Loading the demo programme: invented people and real media, through the same upload and pipeline code as real use."""

from __future__ import annotations

import json
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib.resources import as_file, files
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from ingest.accept import Submission, accept_upload
from ingest.pipeline import run_pipeline
from ingest.redaction import build_redacted_media
from search.backends import backend_for

from ..accounts import create_user, grant_role
from ..audit import record_event
from ..consent_records import ConsentChoice, record_consent
from ..erasure import ErasureContext, erase_artefact, withdraw_artefact
from ..models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentGiver,
    ConsentLevel,
    ConsentMethod,
    PlaceType,
    Programme,
    Role,
    utcnow,
)
from ..principal import SYSTEM, participant_principal, staff_principal
from ..programmes import create_programme, create_session, join_session
from ..services import Services
from .areas import load_demo_areas

SHOWED_QUESTIONS = {
    "see": "What do you see?",
    "happening": "What is really happening?",
    "our_lives": "How does it relate to our lives?",
    "why": "Why does it happen?",
    "do": "What can we do about it?",
}


@dataclass
class DemoResult:
    programme_code: str
    already_loaded: bool = False
    staff: list[tuple[str, str, str]] = field(default_factory=list)  # email, role, password
    join_codes: list[tuple[str, str]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def summary_lines(self, base_url: str = "http://127.0.0.1:5000") -> list[str]:
        if self.already_loaded:
            return [f"The demo programme {self.programme_code} is already loaded; serving it as it is."]
        lines = [f"Loaded the demo programme {self.programme_code}:"]
        lines += [f"  {count} item(s) {status}" for status, count in sorted(self.statuses.items())]
        lines += [f"Staff sign-in ({base_url}/staff/sign-in):"]
        lines += [f"  {email} ({role}) password: {password}" for email, role, password in self.staff]
        lines += [f"Session join codes ({base_url}/join):"]
        lines += [f"  {code}  {name}" for name, code in self.join_codes]
        return lines


def _content() -> dict:
    return json.loads(files("archive.demo").joinpath("content.json").read_text(encoding="utf-8"))


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _choice(record: dict) -> ConsentChoice:
    return ConsentChoice(
        level=ConsentLevel.parse(record["level"]), credit=record["credit"], face=record["face"], voice=record["voice"],
        giver=ConsentGiver(record["giver"]), method=ConsentMethod(record["method"]), witness=record.get("witness"),
        child_assent=record.get("child_assent"),
    )


def _story(item: dict) -> str:
    parts = [item.get("story") or ""]
    for key, question in SHOWED_QUESTIONS.items():
        answer = (item.get("showed") or {}).get(key)
        if answer:
            parts.append(f"{question} {answer}")
    return "\n\n".join(p for p in parts if p)


def load_demo(services: Services, echo: Callable[[str], None] = print) -> DemoResult:
    """Create the demo programme and push its media through upload and the pipeline; idempotent per programme code."""
    content = _content()
    code = content["programme"]["code"]
    result = DemoResult(code)
    with services.session() as db:
        if db.scalar(select(Programme.id).where(Programme.code == code)) is not None:
            result.already_loaded = True
            return result
        programme = create_programme(db, SYSTEM, code, content["programme"]["name"], content["programme"]["framework"])
        staff = {}
        for person in content["staff"]:
            password = secrets.token_urlsafe(12)
            user = create_user(db, SYSTEM, person["email"], person["name"], password)
            grant_role(db, SYSTEM, user, programme, Role(person["role"]))
            staff[person["key"]] = user
            result.staff.append((user.email, person["role"], password))
        sessions = {}
        for item in content["sessions"]:
            band = AgeBand(item["age_band"]) if item.get("age_band") else None
            sessions[item["key"]] = create_session(
                db, SYSTEM, programme, item["name"], PlaceType(item["place_type"]), item["area_code"], band,
                valid_for=timedelta(days=90),
            )
            result.join_codes.append((item["name"], sessions[item["key"]].join_code))
        load_demo_areas(db, programme)
        participants = {}
        for item in content["participants"]:
            participant = join_session(db, sessions[item["session"]], item["alias"], AgeBand(item["age_band"]), item["avatar"])
            if item.get("birth_month"):
                year, month = map(int, item["birth_month"].split("-"))
                participant.birth_month = date(year, month, 1)
            participant.send = item.get("send", False)
            for entry in item["consent_history"]:
                record_consent(db, SYSTEM, participant, _choice(entry["record"]), at=_when(entry["at"]))
            participants[item["key"]] = participant
        db.commit()
        reviewer = staff_principal(next(u for u in staff.values() if any(m.role == Role.FACILITATOR for m in u.memberships)))
        for item in content["artefacts"]:
            echo(f"  processing {item['kind'].replace('_', ' ')}: {item['title']}")
            _load_artefact(services, db, participants[item["participant"]], item, reviewer)
        for status, in db.execute(select(Artefact.status).where(Artefact.programme_id == programme.id)):
            result.statuses[status.value] = result.statuses.get(status.value, 0) + 1
    return result


def _load_artefact(services: Services, db, participant, item: dict, reviewer) -> None:
    submission = Submission(
        kind=ArtefactKind(item["kind"]), title=item["title"], story=_story(item), place=item.get("place"),
        upload_id=f"demo-{item['key']}", themes=tuple(item.get("themes") or ()),
    )
    with tempfile.TemporaryDirectory() as work:
        media = None
        if item.get("media"):
            with as_file(files("archive.demo").joinpath(item["media"])) as source:
                media = Path(work) / Path(item["media"]).name
                media.write_bytes(source.read_bytes())
        artefact, _ = accept_upload(db, services.storage, SYSTEM, participant, submission, media)
    artefact.created_at = _when(item["created_at"])
    withdraw = False
    for entry in item.get("consent_history") or []:
        if entry["record"]["level"] == "none":
            withdraw = True
        else:
            record_consent(db, SYSTEM, participant, _choice(entry["record"]), artefact=artefact, at=_when(entry["at"]))
    db.commit()
    run_pipeline(services, artefact.id)
    db.refresh(artefact)
    if withdraw:
        withdraw_artefact(db, participant_principal(participant), artefact, reason="demo: changed their mind")
        db.commit()
        erase_artefact(ErasureContext(db, services.storage, services.settings), artefact.id, SYSTEM)
        return
    if artefact.status == ArtefactStatus.READY and artefact.consent_level >= ConsentLevel.REPORT:
        artefact.reviewed_at, artefact.reviewed_by_id = utcnow(), reviewer.user_id
        record_event(db, reviewer, "artefact.reviewed", "artefact", artefact.id)
        db.commit()
        backend_for(services.settings).index_artefact(db, artefact)  # review widens who may find it
        build_redacted_media(services, artefact.id)  # the copies readers beyond the team are given
