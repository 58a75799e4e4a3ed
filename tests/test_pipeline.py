"""The recorded pipeline: steps run once, failures are visible and retryable, a crash resumes, a withdrawal wins."""

from __future__ import annotations

import contextlib
import os

import pytest
from PIL import Image
from sqlalchemy import delete, event, select

from archive import schema
from archive.consent import Context
from archive.erasure import withdraw_artefact
from archive.fsck import fsck
from archive.models import Artefact, ArtefactKind, ArtefactStatus, ConsentLevel, Derivative, PipelineStep, Role, StepState
from archive.principal import Principal, participant_principal
from archive.services import Services
from archive.settings import load_settings
from ingest.accept import Submission, accept_upload
from ingest.pipeline import retry_failed, run_pipeline
from ingest.steps import STEP_FUNCTIONS
from search.query import search
from tests.conftest import Factory


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


def _sync_levels_of_commits(engine) -> list[int]:
    """The SQLite ``synchronous`` level each commit on `engine` is made with (2 FULL: on disk when it returns)."""
    levels: list[int] = []

    def record(conn) -> None:
        levels.append(conn.connection.dbapi_connection.execute("PRAGMA synchronous").fetchone()[0])

    event.listen(engine, "commit", record)
    return levels


def _pooled_sync_levels(engine) -> set[int]:
    with contextlib.ExitStack() as stack:
        conns = [stack.enter_context(engine.connect()) for _ in range(engine.pool.size())]
        return {conn.exec_driver_sql("PRAGMA synchronous").scalar() for conn in conns}


def test_only_the_commit_that_brings_an_item_to_rest_waits_for_the_disk(db, services, child, tmp_path):
    levels = _sync_levels_of_commits(services.engine)
    artefact = _photo(db, services, child, tmp_path)
    assert levels == [2]  # the acknowledged upload is on disk before accept_upload returns
    levels.clear()
    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
    # One commit a step (its start, with the previous result), one for the last result, then "ready", synced;
    # syncing the log writes out the earlier commits with it.
    assert levels == [1, 1, 1, 1, 1, 2]
    assert _pooled_sync_levels(services.engine) == {2}  # no other session inherits the relaxed setting


def test_on_postgresql_steps_commit_without_waiting_and_the_item_at_rest_waits(tmp_path, fresh_postgres_url):
    # The test server commits without waiting by default; this connection's default is to wait, as in production.
    url = f"{fresh_postgres_url}?options=-c%20synchronous_commit%3Don"
    services = Services(load_settings(data_dir=tmp_path / "data", database_url=url, queue_url="memory://"))
    schema.upgrade(services.engine)
    settings_seen: list[str] = []
    event.listen(services.engine, "commit", lambda conn: settings_seen.append(
        conn.connection.dbapi_connection.execute("SHOW synchronous_commit").fetchone()[0]))
    try:
        with services.session() as db:
            make = Factory(db, services.storage)
            participant = make.participant(make.session(make.programme()))
            make.consent(participant, ConsentLevel.TEAM)
            artefact = _photo(db, services, participant, tmp_path)
            settings_seen.clear()
            assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
        assert settings_seen == ["off"] * 5 + ["on"]
    finally:
        services.close()


def test_a_failure_is_recorded_on_disk_at_once(db, services, child, tmp_path):
    artefact = _photo(db, services, child, tmp_path)
    levels = _sync_levels_of_commits(services.engine)

    def broken_tag(ctx):
        raise RuntimeError("the theme model could not be loaded")

    with pytest.raises(RuntimeError):
        run_pipeline(services, artefact.id, {**STEP_FUNCTIONS, "tag": broken_tag})
    assert levels[-1] == 2 and levels[:-1] == [1, 1, 1]
    assert _pooled_sync_levels(services.engine) == {2}


def _forget_picture_derivatives(db, services, artefact):
    """As for an item accepted before pictures got their derivatives at acceptance."""
    db.execute(delete(Derivative).where(Derivative.artefact_id == artefact.id))
    db.commit()
    services.storage.delete_prefix(f"{artefact.storage_prefix}derivatives/")


def test_a_crash_between_storing_derivatives_and_the_commit_is_repaired_by_the_rerun(db, services, child, tmp_path):
    artefact = _photo(db, services, child, tmp_path)
    _forget_picture_derivatives(db, services, artefact)

    def derive_then_die(ctx):
        STEP_FUNCTIONS["derivatives"](ctx)
        raise KeyboardInterrupt  # the worker dies after storing, before the result is committed

    with pytest.raises(KeyboardInterrupt):
        run_pipeline(services, artefact.id, {**STEP_FUNCTIONS, "derivatives": derive_then_die})
    db.expire_all()
    assert _steps(db, artefact)["derivatives"].state == StepState.RUNNING
    assert db.scalars(select(Derivative).where(Derivative.artefact_id == artefact.id)).all() == []
    assert not fsck(db, services.storage).clean  # the stored files have no rows yet
    assert _pooled_sync_levels(services.engine) == {2}

    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
    db.expire_all()
    rows = db.scalars(select(Derivative).where(Derivative.artefact_id == artefact.id)).all()
    assert {r.kind for r in rows} >= {"web_image", "thumbnail"}
    report = fsck(db, services.storage)  # the rerun wrote the same keys: every stored object has its row
    assert report.clean and report.untracked == []


def test_a_worker_killed_after_a_relaxed_commit_keeps_what_it_committed(db, services, child, tmp_path):
    artefact = _photo(db, services, child, tmp_path)
    _forget_picture_derivatives(db, services, artefact)

    def die(ctx):
        os._exit(86)  # the process ends at once: no exception handler, no clean-up runs

    pid = os.fork()
    if pid == 0:
        try:
            services.engine.dispose(close=False)  # the parent's connections are not the child's to use
            run_pipeline(services, artefact.id, {**STEP_FUNCTIONS, "extract_text": die})
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 86
    db.expire_all()
    steps = _steps(db, artefact)
    assert (steps["derivatives"].state, steps["extract_text"].state) == (StepState.DONE, StepState.RUNNING)
    assert {r.kind for r in db.scalars(select(Derivative).where(Derivative.artefact_id == artefact.id))} == {
        "web_image", "thumbnail"}
    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
    assert fsck(db, services.storage).clean


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
