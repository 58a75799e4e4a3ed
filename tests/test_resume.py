"""Items left unfinished by a killed worker (or a web process that died before queueing) get a new job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from archive.models import Artefact, ArtefactKind, ArtefactStatus, ConsentLevel, PipelineStep, StepState, utcnow
from archive.principal import participant_principal
from ingest.accept import Submission, accept_upload
from ingest.jobs import process_artefact_job
from ingest.pipeline import run_pipeline
from ingest.resume import QUIET_FOR, requeue_unfinished, unfinished_artefacts
from ingest.steps import STEP_FUNCTIONS


@pytest.fixture
def child(make):
    participant = make.participant(make.session(make.programme()))
    make.consent(participant, ConsentLevel.TEAM)
    return participant


def _photo(db, services, child, tmp_path, name="photo.jpg"):
    path = tmp_path / name
    Image.new("RGB", (640, 480), (200, 120, 40)).save(path, "JPEG")
    artefact, _ = accept_upload(db, services.storage, participant_principal(child), child,
                                Submission(ArtefactKind.PHOTO, title="Park", story="The swings are broken"), path)
    return artefact


def _killed_mid_step(services, artefact):
    def killed(ctx):
        raise KeyboardInterrupt  # the worker dying: nothing records the step's end

    with pytest.raises(KeyboardInterrupt):
        run_pipeline(services, artefact.id, {**STEP_FUNCTIONS, "derivatives": killed})


def _age(db, artefact, by: timedelta):
    when = utcnow() - by
    db.execute(update(Artefact).where(Artefact.id == artefact.id).values(updated_at=when))
    db.execute(update(PipelineStep).where(PipelineStep.artefact_id == artefact.id).values(updated_at=when))
    db.commit()


def test_only_items_quiet_for_longer_than_any_step_count_as_stopped(db, services, child, tmp_path):
    working = _photo(db, services, child, tmp_path, "a.jpg")
    _killed_mid_step(services, working)  # just now: another worker could still be on it
    stopped = _photo(db, services, child, tmp_path, "b.jpg")
    _killed_mid_step(services, stopped)
    _age(db, stopped, QUIET_FOR + timedelta(minutes=1))
    never_queued = _photo(db, services, child, tmp_path, "c.jpg")  # acknowledged, job lost
    _age(db, never_queued, QUIET_FOR + timedelta(minutes=1))
    done = _photo(db, services, child, tmp_path, "d.jpg")
    assert run_pipeline(services, done.id) == ArtefactStatus.READY
    _age(db, done, QUIET_FOR + timedelta(minutes=1))

    assert set(unfinished_artefacts(db)) == {stopped.id, never_queued.id}
    assert set(unfinished_artefacts(db, quiet_for=timedelta(0))) == {working.id, stopped.id, never_queued.id}


def test_a_requeued_item_resumes_at_its_unfinished_step_and_becomes_ready(db, services, child, tmp_path):
    artefact = _photo(db, services, child, tmp_path)
    _killed_mid_step(services, artefact)
    db.expire_all()
    assert db.get(Artefact, artefact.id).status == ArtefactStatus.PROCESSING

    assert requeue_unfinished(services, quiet_for=timedelta(0)) == [artefact.id]  # the test queue runs it at once

    db.expire_all()
    assert db.get(Artefact, artefact.id).status == ArtefactStatus.READY
    states = set(db.scalars(select(PipelineStep.state).where(PipelineStep.artefact_id == artefact.id)))
    assert states == {StepState.DONE}
    assert requeue_unfinished(services, quiet_for=timedelta(0)) == []  # nothing left to resume


def test_an_item_with_a_job_already_waiting_is_not_queued_twice(db, services, child, tmp_path):
    services.huey.immediate = False
    waiting = _photo(db, services, child, tmp_path, "a.jpg")
    process_artefact_job(str(waiting.id))
    lost = _photo(db, services, child, tmp_path, "b.jpg")

    assert requeue_unfinished(services, quiet_for=timedelta(0)) == [lost.id]
    queued = [task.args[0] for task in services.huey.pending()]
    assert sorted(queued) == sorted([str(waiting.id), str(lost.id)])


def test_the_sweep_runs_every_ten_minutes_in_the_consumers_scheduler(services):
    from datetime import datetime

    from ingest.jobs import requeue_stopped_job

    periodic = requeue_stopped_job.bind(services.huey).task_class()
    assert periodic.validate_datetime(datetime(2026, 11, 24, 9, 20))
    assert not periodic.validate_datetime(datetime(2026, 11, 24, 9, 21))
    assert periodic.name in {task.name for task in services.huey._registry.periodic_tasks}
