"""The job queue contract, on the embedded storage (SQLite file) and the scale-out one (a real Redis)."""

import socket
import threading
import time
from pathlib import Path

import pytest
from huey import signals

from archive.settings import Settings
from ingest import queue

RETRIES = 2
RETRY_DELAY = 1


@queue.task()
def write_marker(path: str) -> None:
    Path(path).write_text("ran")


@queue.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def always_fails(path: str) -> None:
    with open(path, "a") as attempts:
        attempts.write(f"{time.monotonic()}\n")
    raise RuntimeError("this task always fails")


@pytest.fixture(params=["sqlite", "redis"])
def settings(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'queue' / 'queue.sqlite3'}"
    else:
        url = request.getfixturevalue("redis_url")
    settings = Settings(data_dir=tmp_path, queue_url=url)
    # The Redis server lives for the whole session; start each test from an empty queue.
    queue.make_huey(settings).flush()
    return settings


@pytest.fixture
def run_consumer():
    stoppers = []
    yield lambda huey: stoppers.append(queue.start_embedded_consumer(huey))
    for stop in stoppers:
        stop(timeout=5)


def wait_for(condition, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def test_enqueued_task_runs_on_the_embedded_consumer(settings, tmp_path, run_consumer):
    huey = queue.configure_queue(settings)
    queue.check_queue(huey)
    marker = tmp_path / "marker"

    assert write_marker(str(marker)) is None  # no result handle: results are not stored
    run_consumer(huey)

    wait_for(marker.exists, "the task to write its marker")


def test_failing_task_is_retried_with_delay_then_given_up(settings, tmp_path, run_consumer):
    huey = queue.configure_queue(settings)
    gave_up = threading.Event()

    @huey.signal(signals.SIGNAL_ERROR)
    def on_error(signal, task, exc):
        if task.retries == 0:
            gave_up.set()

    attempts_file = tmp_path / "attempts"
    always_fails(str(attempts_file))
    run_consumer(huey)

    assert gave_up.wait(RETRY_DELAY * RETRIES + 10), "the task never ran out of retries"
    attempts = [float(line) for line in attempts_file.read_text().split()]
    assert len(attempts) == 1 + RETRIES
    assert all(later - earlier >= RETRY_DELAY * 0.9 for earlier, later in zip(attempts, attempts[1:]))
    assert huey.pending_count() == 0 and huey.scheduled_count() == 0


def test_enqueued_task_survives_a_restart(settings, tmp_path, run_consumer):
    marker = tmp_path / "marker"
    before = queue.configure_queue(settings)
    write_marker(str(marker))
    before.storage.close()

    after = queue.configure_queue(settings)
    assert after.pending_count() == 1
    run_consumer(after)

    wait_for(marker.exists, "the task enqueued before the restart to run")


def test_check_queue_reports_unreachable_redis(tmp_path):
    # A bound socket that never listens: connecting is refused, and no other process can
    # start listening on the port meanwhile.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        huey = queue.make_huey(Settings(data_dir=tmp_path, queue_url=f"redis://127.0.0.1:{port}/0"))

        expected = f"cannot use Redis at 127.0.0.1:{port}.*CHORUS_QUEUE_URL"
        with pytest.raises(queue.QueueUnavailable, match=expected):
            queue.check_queue(huey)
