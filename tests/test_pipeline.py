"""The recorded pipeline: steps run once, failures are visible and retryable, a crash resumes, a withdrawal wins."""

from __future__ import annotations

import pytest
from PIL import Image
from sqlalchemy import select

from archive.consent import Context
from archive.erasure import withdraw_artefact
from archive.models import Artefact, ArtefactKind, ArtefactStatus, ConsentLevel, Derivative, PipelineStep, Role, StepState
from archive.principal import Principal, participant_principal
from ingest.accept import Submission, accept_upload
from ingest.pipeline import retry_failed, run_pipeline
from ingest.steps import STEP_FUNCTIONS
from search.query import search


@pytest.fixture
def child(make):
    participant = make.participant(make.session(make.programme()))
    make.consent(participant, ConsentLevel.TEAM)
    return participant


def _photo(db, services, child, tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (1200, 900), (30, 90, 160)).save(path, "JPEG")
    artefact, _ = accept_upload(db, services.storage, participant_principal(child), child,
                                Submission(ArtefactKind.PHOTO, title="Bus stop", story="The qqbusqq never comes"), path)
    return artefact


def _steps(db, artefact):
    db.expire_all()
    return {s.step: s for s in db.scalars(select(PipelineStep).where(PipelineStep.artefact_id == artefact.id))}


def test_photo_goes_through_every_step_and_becomes_searchable(db, services, child, tmp_path):
    artefact = _photo(db, services, child, tmp_path)
    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
    steps = _steps(db, artefact)
    assert {name: s.state for name, s in steps.items()} == {n: StepState.DONE for n in ("derivatives", "extract_text", "tag", "index")}
    kinds = set(db.scalars(select(Derivative.kind).where(Derivative.artefact_id == artefact.id)))
    assert kinds == {"thumbnail", "web_image", "ocr"}
    team = Principal(kind="staff", user_id=1, roles=frozenset({(child.programme_id, Role.FACILITATOR)}))
    assert search(services.settings.index_dir, team, Context.TEAM, "qqbusqq").total == 1


def test_a_failing_step_is_recorded_then_retried_without_redoing_finished_ones(db, services, child, tmp_path):
    artefact = _photo(db, services, child, tmp_path)
    calls = {"derivatives": 0}

    def counting_derivatives(ctx):
        calls["derivatives"] += 1
        STEP_FUNCTIONS["derivatives"](ctx)

    def broken_tag(ctx):
        raise RuntimeError("the theme model could not be loaded")

    with pytest.raises(RuntimeError):
        run_pipeline(services, artefact.id, {**STEP_FUNCTIONS, "derivatives": counting_derivatives, "tag": broken_tag})
    db.expire_all()
    failed = db.get(Artefact, artefact.id)
    assert failed.status == ArtefactStatus.FAILED
    assert failed.failure_reason == "tag: the theme model could not be loaded"
    assert _steps(db, artefact)["tag"].state == StepState.FAILED and _steps(db, artefact)["tag"].attempts == 1

    retry_failed(db, failed)
    db.commit()
    assert run_pipeline(services, artefact.id, {**STEP_FUNCTIONS, "derivatives": counting_derivatives}) == ArtefactStatus.READY
    assert calls["derivatives"] == 1  # finished work is not repeated
    assert _steps(db, artefact)["tag"].attempts == 2


def test_a_step_left_running_by_a_killed_worker_runs_again(db, services, child, tmp_path):
    artefact = _photo(db, services, child, tmp_path)

    def killed(ctx):
        raise KeyboardInterrupt  # stands in for the worker dying mid-step: nothing records the end

    with pytest.raises(KeyboardInterrupt):
        run_pipeline(services, artefact.id, {**STEP_FUNCTIONS, "derivatives": killed})
    db.expire_all()
    assert _steps(db, artefact)["derivatives"].state == StepState.RUNNING
    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY


def test_withdrawal_during_processing_resurrects_nothing(db, services, child, tmp_path):
    artefact = _photo(db, services, child, tmp_path)

    def withdraw_then_derive(ctx):
        with services.session() as other:
            withdraw_artefact(other, participant_principal(child), other.get(Artefact, artefact.id))
            other.commit()
        STEP_FUNCTIONS["derivatives"](ctx)

    assert run_pipeline(services, artefact.id, {**STEP_FUNCTIONS, "derivatives": withdraw_then_derive}) is None
    db.expire_all()
    gone = db.get(Artefact, artefact.id)
    assert gone.status == ArtefactStatus.WITHDRAWN and gone.erased_at is not None
    assert db.scalars(select(Derivative).where(Derivative.artefact_id == artefact.id)).all() == []
    assert list(services.storage.iter_keys(gone.storage_prefix)) == []


def _accept_file(db, services, child, kind, path, title):
    artefact, _ = accept_upload(db, services.storage, participant_principal(child), child, Submission(kind, title=title), path)
    return artefact


def test_voice_note_is_transcribed_captioned_and_found_by_its_words(db, services, child):
    from pathlib import Path

    jfk = Path(__file__).parent / "data" / "jfk.flac"
    artefact = _accept_file(db, services, child, ArtefactKind.VOICE_NOTE, jfk, "A speech")
    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
    db.expire_all()
    artefact = db.get(Artefact, artefact.id)
    text = artefact.transcript.text.lower()
    assert "ask not what your country can do for you" in text and artefact.transcript.language == "en"
    kinds = set(db.scalars(select(Derivative.kind).where(Derivative.artefact_id == artefact.id)))
    assert kinds == {"proxy", "audio_16k", "waveform", "captions"}
    with services.storage.open(f"{artefact.storage_prefix}derivatives/captions") as handle:
        assert handle.read().decode().startswith("WEBVTT")
    team = Principal(kind="staff", user_id=1, roles=frozenset({(child.programme_id, Role.FACILITATOR)}))
    hits = search(services.settings.index_dir, team, Context.TEAM, "country")
    assert [h.id for h in hits.hits] == [str(artefact.id)]


def test_video_without_sound_gets_an_empty_flagged_transcript(db, services, child, tmp_path):
    import subprocess

    import imageio_ffmpeg

    video = tmp_path / "silent.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
                    "-t", "2", "-pix_fmt", "yuv420p", str(video)], check=True)
    artefact = _accept_file(db, services, child, ArtefactKind.VIDEO_DIARY, video, "No sound")
    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
    db.expire_all()
    artefact = db.get(Artefact, artefact.id)
    assert artefact.transcript.no_speech and artefact.transcript.segments == []
    kinds = set(db.scalars(select(Derivative.kind).where(Derivative.artefact_id == artefact.id)))
    assert {"proxy", "poster"} <= kinds and "audio_16k" not in kinds


def test_words_on_a_drawing_are_read_searched_and_checked_for_personal_details(db, services, child):
    from pathlib import Path

    from archive.models import PersonalDetailFlag

    drawing = Path(__file__).parents[1] / "archive" / "demo" / "media" / "drawing-no-bus.png"
    artefact = _accept_file(db, services, child, ArtefactKind.DRAWING, drawing, "My drawing")
    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
    db.expire_all()
    artefact = db.get(Artefact, artefact.id)
    assert "NO BUS" in artefact.image_text.upper()
    team = Principal(kind="staff", user_id=1, roles=frozenset({(child.programme_id, Role.FACILITATOR)}))
    assert [h.id for h in search(services.settings.index_dir, team, Context.TEAM, "bus").hits] == [str(artefact.id)]
    assert not artefact.has_faces
    story, _ = accept_upload(db, services.storage, participant_principal(child), child, Submission(
        ArtefactKind.TEXT_STORY, title="Park", story="My friend Jayden lives on Mill Lane and goes to St Mary's Primary"))
    run_pipeline(services, story.id)
    kinds = set(db.scalars(select(PersonalDetailFlag.kind).where(PersonalDetailFlag.artefact_id == story.id)))
    assert {"name", "address", "school"} <= kinds
