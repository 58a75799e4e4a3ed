"""The background job queue, built on huey.

``CHORUS_QUEUE_URL`` picks the storage: ``sqlite:///path`` (the embedded default, a file
next to the data), ``redis://...`` (scale-out: separate worker processes) or ``memory://``
(one process only, nothing survives a restart).

Task registration. A huey task has to be registered on the huey instance that runs it, but
that instance is only known once the settings are, and tests build several. So task modules
do not use ``huey.task()``; they use this module's :func:`task` decorator, which records the
function and binds it lazily to the process-wide instance that :func:`configure_queue`
creates (``configure_queue`` also binds every task recorded so far, so the import order of
task modules and configuration does not matter). Calling a decorated function enqueues it
on :func:`get_huey`; any other huey ``TaskWrapper`` attribute (``schedule``, ``call_local``,
...) is forwarded to the wrapper bound to that instance.

Results are not stored: job state lives in our own database. Retries do not need the
result store; they go through huey's schedule, which every storage keeps.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from weakref import WeakKeyDictionary

import redis
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from huey.consumer import Consumer, ConsumerStopped

from archive.settings import ConfigurationError, Settings

QUEUE_NAME = "chorus"


class QueueUnavailable(Exception):
    """The queue's storage cannot be reached; the message says where and why."""


def make_huey(settings: Settings) -> Huey:
    """A new huey instance on the storage named by ``settings.queue_url``, with no tasks bound."""
    url = settings.queue_url
    options = {"results": False, "utc": True}
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.name:
            raise ConfigurationError("CHORUS_QUEUE_URL sqlite:/// needs a file path")
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path), **options)
    if url.startswith(("redis://", "rediss://")):
        # Without timeouts a dead or firewalled Redis would hang web requests that enqueue;
        # the read timeout stays above huey's 1 s blocking dequeue.
        pool = redis.ConnectionPool.from_url(url, socket_connect_timeout=5, socket_timeout=10)
        return RedisHuey(QUEUE_NAME, connection_pool=pool, **options)
    if url == "memory://":
        return MemoryHuey(QUEUE_NAME, **options)
    raise ConfigurationError(f"CHORUS_QUEUE_URL {url!r} is not sqlite:///..., redis://... or memory://")


def check_queue(huey: Huey) -> None:
    """Raise QueueUnavailable unless the queue's storage answers."""
    try:
        huey.storage.queue_size()
    except redis.RedisError as exc:
        kwargs = huey.storage.pool.connection_kwargs
        raise QueueUnavailable(
            f"the job queue is unavailable: cannot use Redis at {kwargs.get('host')}:{kwargs.get('port')} "
            f"({exc}); start Redis or correct CHORUS_QUEUE_URL"
        ) from exc
    except sqlite3.Error as exc:
        raise QueueUnavailable(
            f"the job queue is unavailable: cannot use the SQLite queue file {huey.storage.filename} ({exc})"
        ) from exc


_huey: Huey | None = None
_tasks: list[LazyTask] = []


def configure_queue(settings: Settings) -> Huey:
    """Build the process-wide huey instance and bind every task declared so far."""
    global _huey
    huey = make_huey(settings)
    for lazy in _tasks:
        lazy.bind(huey)
    _huey = huey
    return huey


def get_huey() -> Huey:
    if _huey is None:
        raise RuntimeError("the job queue is not configured: call configure_queue(settings) first")
    return _huey


class LazyTask:
    """A task function declared with :func:`task`, bound to each huey instance on demand."""

    def __init__(self, func: Callable, register: Callable[[Huey], Callable]):
        self.func = func
        self.register = register  # huey -> its decorator for this task
        self._wrappers: WeakKeyDictionary[Huey, TaskWrapper] = WeakKeyDictionary()

    def bind(self, huey: Huey) -> TaskWrapper:
        wrapper = self._wrappers.get(huey)
        if wrapper is None:
            wrapper = self._wrappers[huey] = self.register(huey)(self.func)
        return wrapper

    def __call__(self, *args, **kwargs):
        return self.bind(get_huey())(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.bind(get_huey()), name)


def task(**options) -> Callable[[Callable], LazyTask]:
    """Declare a queue task; ``options`` are huey's (``retries``, ``retry_delay``, ...)."""
    return _declare(lambda huey: huey.task(**options))


def periodic_task(validate_datetime: Callable, **options) -> Callable[[Callable], LazyTask]:
    """Declare a task the consumer's scheduler runs whenever `validate_datetime` (a huey ``crontab``) says."""
    return _declare(lambda huey: huey.periodic_task(validate_datetime, **options))


def _declare(register: Callable[[Huey], Callable]) -> Callable[[Callable], LazyTask]:
    def decorate(func: Callable) -> LazyTask:
        lazy = LazyTask(func, register)
        _tasks.append(lazy)
        if _huey is not None:
            lazy.bind(_huey)
        return lazy

    return decorate


class _EmbeddedConsumer(Consumer):
    def _set_signal_handlers(self) -> None:
        # The host process (the web server) owns SIGINT/SIGTERM/SIGHUP, and signal.signal
        # fails outside the main thread; the host stops us through the returned stopper.
        pass


def start_embedded_consumer(huey: Huey, workers: int = 2) -> Callable[..., None]:
    """Run huey's consumer (worker and scheduler threads) inside this process.

    Returns ``stop(timeout=30.0)``: it lets running tasks finish for up to ``timeout``
    seconds, then returns; threads still busy after that are daemons and die with the process.
    """
    # max_delay bounds how long an idle SQLite worker sleeps between polls, so a new job
    # starts within about a second; Redis workers block on the list instead of polling.
    consumer = _EmbeddedConsumer(huey, workers=workers, worker_type="thread", max_delay=1.0)
    # Started here rather than in the monitor thread so that stop() never meets unstarted
    # worker threads, which cannot be joined.
    consumer.start()

    def monitor() -> None:
        # Consumer.run() minus signals and exec-restart: restart dead workers until stopped.
        health_check_ts = time.monotonic()
        while True:
            try:
                health_check_ts = consumer.loop(health_check_ts)
            except ConsumerStopped:
                break
        # Only tasks still running once the workers have finished were really interrupted;
        # clearing huey's running list earlier makes a task that finishes meanwhile look failed.
        for _, worker_thread in consumer.worker_threads:
            worker_thread.join(consumer.shutdown_timeout)
        huey.notify_interrupted_tasks()

    monitor_thread = threading.Thread(target=monitor, name="chorus-queue-monitor", daemon=True)
    monitor_thread.start()

    def stop(timeout: float = 30.0) -> None:
        consumer.shutdown_timeout = timeout
        consumer.stop(graceful=True)
        monitor_thread.join(timeout)

    return stop
