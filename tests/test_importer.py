"""`chorus import`: a folder of offline media, a consent manifest, refusals with reasons, resuming."""

from __future__ import annotations

import csv
import json
import math
import os
import struct
import wave
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import func, select

from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentGiver,
    ConsentLevel,
    ConsentMethod,
    ConsentRecord,
    Participant,
)
from ingest import importer
from ingest.cli import import_command
from ingest.importer import ManifestError, inline_processing, parse_given_at, plan_import, run_import

GPS_CANARY = "CANARY-GPS-53.7626"
HEADER = ["file", "participant", "age_band", "kind", "title", "story", "themes",
          "level", "credit", "face", "voice", "giver", "method", "witness", "child_assent", "given_at"]


# --- real files ----------------------------------------------------------------------------------


def jpeg(path: Path, colour=(90, 140, 200)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif[0x010E] = GPS_CANARY
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (53.0, 45.0, 45.45), "W", (3.0, 33.0, 33.33)
    Image.new("RGB", (640, 480), colour).save(path, "JPEG", exif=exif)
    return path


def png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (400, 300), (250, 250, 240)).save(path, "PNG")
    return path


def wav(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


def text(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def manifest(path: Path, rows: list[dict], header=HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(file, participant="Blue Fox", **fields) -> dict:
    consent = {"level": "report", "credit": "no", "face": "yes", "voice": "yes", "giver": "participant",
               "method": "paper", "given_at": "2025-03-14"}
    return {"file": file, "participant": participant, "age_band": "16_19", **consent, **fields}


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def session(make):
    return make.session(make.programme())


@pytest.fixture
def run(services, session):
    runner = CliRunner()

    def invoke(folder, *args):
        result = runner.invoke(import_command, [str(folder), "--session", session.join_code, *args],
                               obj=services, catch_exceptions=False)
        return result

    return invoke


@pytest.fixture
def photos(tmp_path):
    """A clean folder from two phones and a scanner, with its manifest beside it."""
    folder = tmp_path / "collected"
    jpeg(folder / "phone1" / "IMG_0001.jpg")
    jpeg(folder / "phone1" / "IMG_0002.jpg", colour=(200, 90, 40))
    png(folder / "scans" / "drawing-01.png")
    text(folder / "stories" / "bus.txt", "The bus never comes on time so I am late for school.")
    sheet = manifest(tmp_path / "consent.csv", [
        row("IMG_0001.jpg", title="Our street", story="The bins are always full", themes="place"),
        row("phone1/IMG_0002.jpg"),
        row("drawing-01.png", participant="Green Owl", age_band="5_11", kind="drawing", level="team",
            giver="parent_carer", child_assent="yes", given_at="2025-02-01"),
        row("stories/bus.txt", participant="Green Owl", age_band="5_11", level="", given_at="",
            credit="", face="", voice="", giver="", method=""),
    ])
    return folder, sheet


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def stored_files(services) -> list[Path]:
    return [p for p in services.settings.media_dir.rglob("*") if p.is_file()]


def everything(db, services) -> tuple[int, ...]:
    return count(db, Artefact), count(db, ConsentRecord), count(db, Participant), len(stored_files(services))


# --- importing -----------------------------------------------------------------------------------


def test_a_folder_with_a_manifest_is_imported_processed_and_consented(run, db, services, photos):
    folder, sheet = photos
    result = run(folder, "--manifest", sheet, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["counts"] == {"accepted": 4, "already_imported": 0, "refused": 0, "processing_failed": 0}
    kinds = {o["file"]: o["kind"] for o in summary["accepted"]}
    assert kinds == {"phone1/IMG_0001.jpg": "photo", "phone1/IMG_0002.jpg": "photo",
                     "scans/drawing-01.png": "drawing", "stories/bus.txt": "text_story"}
    artefacts = db.scalars(select(Artefact)).all()
    assert {a.status for a in artefacts} == {ArtefactStatus.READY}
    street = next(a for a in artefacts if a.title == "Our street")
    assert street.story == "The bins are always full"
    assert [t.theme for t in street.tags if t.source.value == "participant"] == ["place"]
    assert GPS_CANARY.encode() not in (services.settings.media_dir / street.master_key).read_bytes()
    story = next(a for a in artefacts if a.kind == ArtefactKind.TEXT_STORY)
    assert story.story.startswith("The bus never comes") and story.original_name == "bus.txt"
    owl = db.scalar(select(Participant).where(Participant.alias == "Green Owl"))
    assert owl.age_band == AgeBand.AGE_5_11 and owl.session_id == street.session_id


def test_consent_is_recorded_with_the_date_on_the_form(run, db, photos):
    folder, sheet = photos
    assert run(folder, "--manifest", sheet).exit_code == 0
    records = {r.participant_id: r for r in db.scalars(select(ConsentRecord))}
    assert len(records) == 2  # one form per participant, however many files they sent
    fox = db.scalar(select(Participant).where(Participant.alias == "Blue Fox"))
    owl = db.scalar(select(Participant).where(Participant.alias == "Green Owl"))
    assert records[fox.id].created_at == datetime(2025, 3, 14, tzinfo=timezone.utc)
    fox_form = records[fox.id]
    assert (fox_form.level, fox_form.method, fox_form.face) == (ConsentLevel.REPORT, ConsentMethod.PAPER, True)
    assert records[owl.id].created_at == datetime(2025, 2, 1, tzinfo=timezone.utc)
    assert (records[owl.id].giver, records[owl.id].child_assent) == (ConsentGiver.PARENT_CARER, True)
    levels = {a.participant_id: a.consent_level for a in db.scalars(select(Artefact))}
    assert levels == {fox.id: ConsentLevel.REPORT, owl.id: ConsentLevel.TEAM}


def test_running_again_skips_everything_already_imported(run, db, services, photos):
    folder, sheet = photos
    assert run(folder, "--manifest", sheet).exit_code == 0
    before = everything(db, services)
    again = run(folder, "--manifest", sheet, "--json")
    assert again.exit_code == 0
    summary = json.loads(again.output)
    assert summary["counts"]["accepted"] == 0 and summary["counts"]["already_imported"] == 4
    assert everything(db, services) == before


def _interrupt_on_call(monkeypatch, number: int, exc: BaseException) -> None:
    real = importer.accept_upload
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "accept_upload", flaky)


def test_an_import_stopped_by_ctrl_c_carries_on_without_duplicates(run, db, photos, monkeypatch):
    folder, sheet = photos
    _interrupt_on_call(monkeypatch, 3, KeyboardInterrupt())
    stopped = run(folder, "--manifest", sheet, "--json")
    assert stopped.exit_code == 130
    partial = json.loads(stopped.output)
    assert partial["interrupted"] and partial["counts"]["accepted"] == 2
    monkeypatch.undo()
    resumed = json.loads(run(folder, "--manifest", sheet, "--json").output)
    assert (resumed["counts"]["already_imported"], resumed["counts"]["accepted"]) == (2, 2)
    assert count(db, Artefact) == 4 and count(db, Participant) == 2 and count(db, ConsentRecord) == 2
    assert db.scalar(select(func.count(func.distinct(Artefact.upload_id)))) == 4


def test_a_crash_midway_loses_nothing_and_the_rerun_completes(db, services, session, photos, monkeypatch):
    folder, sheet = photos
    plan = plan_import(db, folder, session.join_code, sheet)
    _interrupt_on_call(monkeypatch, 2, RuntimeError("power cut"))
    with pytest.raises(RuntimeError, match="power cut"):
        run_import(services, plan, inline_processing(services))
    db.expire_all()
    assert count(db, Artefact) == 1
    monkeypatch.undo()
    summary = run_import(services, plan, inline_processing(services))
    assert (len(summary.accepted), len(summary.already_imported), len(summary.refused)) == (3, 1, 0)
    db.expire_all()
    assert count(db, Artefact) == 4 and count(db, ConsentRecord) == 2
    assert {a.status for a in db.scalars(select(Artefact))} == {ArtefactStatus.READY}


def test_an_item_left_unprocessed_is_processed_on_the_rerun(db, services, session, photos):
    folder, sheet = photos
    plan = plan_import(db, folder, session.join_code, sheet)
    never = importer.Processing(lambda artefact_id: None, frozenset({ArtefactStatus.RECEIVED}), "queued")
    run_import(services, plan, never)
    summary = run_import(services, plan, inline_processing(services))
    assert {o.processing for o in summary.already_imported} == {"done"}
    db.expire_all()
    assert {a.status for a in db.scalars(select(Artefact))} == {ArtefactStatus.READY}


def test_a_participant_who_joined_in_the_app_is_found_by_alias(run, db, make, session, tmp_path):
    joined = make.participant(session, alias="Blue Fox")
    make.participant(session, alias="Green Owl")
    folder = tmp_path / "card"
    jpeg(folder / "a.jpg")
    result = run(folder, "--manifest", manifest(tmp_path / "m.csv", [row("a.jpg", participant="blue fox")]))
    assert result.exit_code == 0, result.output
    (artefact,) = db.scalars(select(Artefact)).all()
    assert artefact.participant_id == joined.id and count(db, Participant) == 2


# --- refusals ------------------------------------------------------------------------------------


def test_refused_files_are_listed_with_reasons_and_the_rest_imported(run, db, services, tmp_path):
    folder = tmp_path / "card"
    jpeg(folder / "good.jpg")
    (folder / "index.jpg").write_bytes(b"<!doctype html><html><script>alert(1)</script></html>")
    (folder / "empty.jpg").write_bytes(b"")
    jpeg(folder / "said-audio.jpg")
    jpeg(folder / "nobody.jpg")
    text(folder / "notes.md", "shopping list")
    sheet = manifest(tmp_path / "consent.csv", [
        row("good.jpg"), row("index.jpg"), row("empty.jpg"), row("said-audio.jpg", kind="voice_note"),
        row("notes.md"), row("gone.jpg"),
    ])
    result = run(folder, "--manifest", sheet)
    assert result.exit_code == 1
    assert "1 accepted, 0 already imported, 6 refused" in result.output
    reasons = dict(line.strip().split(": ", 1) for line in result.output.splitlines() if line.startswith("  "))
    assert "web page" in reasons["index.jpg"]
    assert "empty" in reasons["empty.jpg"]
    assert "says this is a voice note, but the file is a photo" in reasons["said-audio.jpg"]
    assert "text file" in reasons["notes.md"] and ".txt" in reasons["notes.md"]
    assert "not in the manifest" in reasons["nobody.jpg"]
    assert "not in the folder" in reasons["gone.jpg"]
    (kept,) = db.scalars(select(Artefact)).all()
    masters = [p for p in stored_files(services) if p.parent.name == str(kept.id)]
    assert kept.original_name == "good.jpg" and len(masters) == 1


def test_hidden_files_are_skipped_and_links_not_followed(run, db, tmp_path):
    outside = jpeg(tmp_path / "elsewhere" / "private.jpg")
    folder = tmp_path / "card"
    jpeg(folder / "IMG_1.jpg")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    jpeg(folder / ".Trashes" / "deleted.jpg")
    os.symlink(outside, folder / "linked.jpg")
    os.symlink(outside.parent, folder / "linked-folder")
    result = run(folder, "--participant", "Red Kite", "--age-band", "11_15", "--json")
    summary = json.loads(result.output)
    assert [o["file"] for o in summary["accepted"]] == ["IMG_1.jpg"]
    assert {o["file"] for o in summary["refused"]} == {"linked.jpg", "linked-folder"}
    assert all("link" in o["reason"] for o in summary["refused"])
    assert summary["without_consent"] == ["Red Kite"]
    assert count(db, Artefact) == 1


def test_one_participant_without_a_manifest(run, db, tmp_path):
    folder = tmp_path / "phone"
    jpeg(folder / "a.jpg")
    wav(folder / "note.wav")
    result = run(folder, "--participant", "Red Kite", "--age-band", "11_15", "--wait")
    assert result.exit_code == 0, result.output
    assert "No consent is recorded for Red Kite" in result.output
    kite = db.scalar(select(Participant).where(Participant.alias == "Red Kite"))
    kinds = sorted(a.kind.value for a in db.scalars(select(Artefact).where(Artefact.participant_id == kite.id)))
    assert kite.age_band == AgeBand.AGE_11_15 and kinds == ["photo", "voice_note"]
    assert {a.consent_level for a in db.scalars(select(Artefact))} == {ConsentLevel.NONE}


def test_without_a_manifest_or_participant_nothing_starts(run, db, tmp_path):
    folder = tmp_path / "phone"
    jpeg(folder / "a.jpg")
    result = run(folder)
    assert result.exit_code == 2 and "--participant" in result.output
    assert run(folder, "--manifest", manifest(tmp_path / "m.csv", [row("a.jpg")]), "--participant", "X").exit_code == 2
    assert count(db, Artefact) == 0 and count(db, Participant) == 0


def test_an_unknown_session_code_is_refused(services, tmp_path):
    folder = tmp_path / "phone"
    jpeg(folder / "a.jpg")
    args = [str(folder), "--session", "NOPE99", "--participant", "A", "--age-band", "5_11"]
    result = CliRunner().invoke(import_command, args, obj=services)
    assert result.exit_code == 2 and "no session with the code" in result.output


# --- the manifest --------------------------------------------------------------------------------


@pytest.mark.parametrize("rows, header, words", [
    ([row("a.jpg")], [c for c in HEADER if c != "given_at"], "missing column given_at"),
    ([row("a.jpg", level="everyone")], HEADER, "line 2: level 'everyone' is not one of"),
    ([row("b.jpg"), row("a.jpg", themes="place;unicorns")], HEADER, "line 3: unknown theme 'unicorns'"),
    ([row("a.jpg", given_at="14/03/2025")], HEADER, "line 2: given_at '14/03/2025' is not a date"),
    ([row("a.jpg", given_at="2999-01-01")], HEADER, "line 2: given_at '2999-01-01' is in the future"),
    ([row("a.jpg", age_band="teen")], HEADER, "line 2: age_band 'teen' is not one of"),
    ([row("a.jpg", method="verbal_witnessed")], HEADER, "line 2: verbal_witnessed consent needs a witness"),
    ([row("a.jpg"), row("b.jpg", level="exhibit")], HEADER, "line 3: Blue Fox's consent differs from line 2"),
    ([row("a.jpg"), row("a.jpg")], HEADER, "line 3: a.jpg is already listed on line 2"),
    ([row("a.jpg", credit="maybe")], HEADER, "line 2: credit 'maybe' should be yes or no"),
    ([row("a.jpg")], HEADER + ["gvien_at"], "unknown column 'gvien_at'"),
])
def test_a_malformed_manifest_names_the_line_and_imports_nothing(run, db, services, tmp_path, rows, header, words):
    folder = tmp_path / "card"
    jpeg(folder / "a.jpg")
    jpeg(folder / "b.jpg")
    result = run(folder, "--manifest", manifest(tmp_path / "consent.csv", rows, header))
    assert result.exit_code == 2
    assert words in result.output and "nothing was imported" in result.output
    assert (count(db, Artefact), count(db, Participant), count(db, ConsentRecord)) == (0, 0, 0)
    assert stored_files(services) == []


def test_a_bare_name_shared_by_two_files_must_name_its_folder(run, db, tmp_path):
    folder = tmp_path / "cards"
    jpeg(folder / "phone1" / "IMG_0001.jpg")
    jpeg(folder / "phone2" / "IMG_0001.jpg", colour=(1, 2, 3))
    result = run(folder, "--manifest", manifest(tmp_path / "m.csv", [row("IMG_0001.jpg")]))
    assert result.exit_code == 2 and "2 files are called IMG_0001.jpg" in result.output
    assert count(db, Artefact) == 0


def test_the_manifest_inside_the_folder_is_not_imported_and_all_problems_are_listed(db, session, tmp_path):
    folder = tmp_path / "card"
    jpeg(folder / "a.jpg")
    sheet = manifest(folder / "consent.csv", [row("a.jpg", level="lots", given_at="soon", themes="dragons")])
    with pytest.raises(ManifestError) as bad:
        plan_import(db, folder, session.join_code, sheet)
    assert len(bad.value.problems) == 3 and all(p.startswith("line 2:") for p in bad.value.problems)
    fixed = manifest(folder / "consent.csv", [row("a.jpg")])
    plan = plan_import(db, folder, session.join_code, fixed)
    assert [p.file.name for p in plan.files] == ["a.jpg"] and plan.refused == []


def test_manifest_written_by_a_spreadsheet(db, session, tmp_path):
    folder = tmp_path / "card"
    jpeg(folder / "Café.jpg")
    sheet = tmp_path / "consent.csv"
    lines = ["File,Participant,Age Band,Title,Story,Level,Given At,,",
             '"cafe\u0301.JPG",Blue Fox,16-19,Lunch,"We queue, then\nwe wait",Report,2025-03-14T15:30,,', ""]
    sheet.write_bytes("\ufeff".encode() + "\r\n".join(lines).encode("utf-8"))
    plan = plan_import(db, folder, session.join_code, sheet)
    (planned,) = plan.files
    assert planned.row.story == "We queue, then\nwe wait" and planned.person.age_band == AgeBand.AGE_16_19
    assert planned.person.consent.given_at == datetime(2025, 3, 14, 15, 30, tzinfo=timezone.utc)


def test_dates_on_forms():
    now = datetime(2025, 6, 1, tzinfo=timezone.utc)
    assert parse_given_at("2025-03-14", now) == datetime(2025, 3, 14, tzinfo=timezone.utc)
    assert parse_given_at("2025-03-14T10:00+01:00", now) == datetime(2025, 3, 14, 9, tzinfo=timezone.utc)
    for bad in ("14/03/2025", "yesterday", "2025-06-02"):
        with pytest.raises(ValueError):
            parse_given_at(bad, now)
