"""Run the ffmpeg program on untrusted recordings, boxed in.

Every ffmpeg run in Chorus goes through :func:`run_ffmpeg`, in a child process, never inside
the web or worker process itself, so a demuxer bug can crash or bloat only that child:

* ``-protocol_whitelist file,pipe`` goes in front of every ``-i``: a playlist, concat list or
  subtitle that names ``http://``, ``ftp://``, ``tcp://`` ... cannot make ffmpeg connect
  anywhere (HLS/concat tricks, CVE-2016-1897/1898). It does not stop a playlist reading
  *local* files; that is why callers also force the demuxer (``-f mov`` etc.), see
  :mod:`media.av`.
* a wall-clock timeout; the child leads its own session (process group), and on timeout the
  whole group is killed with SIGKILL and reaped, so no ffmpeg keeps running or lingers as a
  zombie (moviepy is known to hang forever on some corrupt files, Zulko/moviepy#2283).
* ``RLIMIT_AS`` caps the child's address space, so a decompression bomb or a demuxer that
  trusts a huge size field fails inside ffmpeg instead of pushing the worker into the OOM
  killer; ``RLIMIT_CORE`` is 0 because a core dump would be a copy of a child's recording.
  The cap counts reserved address space, not resident memory: glibc reserves 64 MB per
  thread for malloc arenas, so a 1080p transcode (~180 MB resident) needed over 1 GB of
  address space until ``MALLOC_ARENA_MAX=2`` was set; callers also pin ``-threads``.
* ``-nostdin`` (ffmpeg otherwise reads keys from the terminal and can stop on SIGTTIN),
  ``LC_ALL=C`` (stable messages to parse) and an environment without ``FFREPORT`` and
  friends.

The binary is the static build shipped by ``imageio-ffmpeg`` (``IMAGEIO_FFMPEG_EXE`` may point
at a system ffmpeg instead; imageio-ffmpeg honours it).
"""

from __future__ import annotations

import functools
import os
import re
import resource
import signal
import subprocess
import tempfile
from collections.abc import Sequence

PROTOCOL_WHITELIST = "file,pipe"
# Enough of stderr for a probe's stream listing and the error at the end; the rest of a run
# that logs every broken frame is not worth keeping in memory.
STDERR_TAIL_BYTES = 256 * 1024

_BASE_ARGS = ("-nostdin", "-hide_banner", "-nostats")
_CHILD_ENV = {"LC_ALL": "C", "MALLOC_ARENA_MAX": "2"}
# ffmpeg's closing lines that say nothing about the cause.
_GENERIC_LINES = re.compile(
    r"^(conversion failed!?|exiting normally.*|error opening (input|output)\b.*"
    r"|error (while )?(processing|closing|writing|finishing).*|task finished with error.*)$",
    re.IGNORECASE,
)
# "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d5c0a0] " and "[in#0/mov @ 0x...] " prefixes.
_CONTEXT_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")


class MediaError(Exception):
    """ffmpeg could not do the job (damaged file, unsupported codec, ...).

    ``str()`` is one readable line; ``stderr`` holds the end of ffmpeg's log for the job log.
    """

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class MediaTimeout(MediaError):
    """ffmpeg ran past its wall-clock limit; its whole process group was killed and reaped."""

    def __init__(self, message: str, pid: int, stderr: str = "") -> None:
        super().__init__(message, stderr)
        self.pid = pid


class MediaRejected(MediaError):
    """The recording is refused by policy; ``str()`` is written for a child's facilitator."""

    @property
    def message(self) -> str:
        return str(self)


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(
    args: Sequence[str],
    *,
    timeout: float,
    memory_mb: int,
    check: bool = True,
    loglevel: str = "error",
) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg with ``args`` in a sandboxed child; ``stderr`` of the result is its log tail.

    Raises :class:`MediaTimeout` after ``timeout`` seconds and, when ``check`` is true,
    :class:`MediaError` on a non-zero exit. ``check=False`` is for probing, where ffmpeg is
    run without an output and always exits 1 after printing what it found.
    """
    command = [ffmpeg_exe(), *_BASE_ARGS, "-loglevel", loglevel, *with_whitelist(args)]
    with tempfile.TemporaryFile() as log:
        returncode, pid = _run_boxed(command, log, timeout, memory_mb)
        stderr = _tail(log)
    if returncode is None:
        raise MediaTimeout(f"ffmpeg took longer than {timeout:g} s and was stopped", pid, stderr)
    if check and returncode != 0:
        raise MediaError(readable_error(stderr, args, returncode), stderr)
    return subprocess.CompletedProcess(command, returncode, None, stderr)


def with_whitelist(args: Sequence[str]) -> list[str]:
    """``args`` with the protocol whitelist in front of every ``-i``."""
    out: list[str] = []
    for arg in args:
        if arg == "-i":
            out += ["-protocol_whitelist", PROTOCOL_WHITELIST]
        out.append(arg)
    return out


def _run_boxed(command: list[str], log, timeout: float, memory_mb: int) -> tuple[int | None, int]:
    """(exit code, pid); the exit code is None when the run was killed for time."""
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=_CHILD_ENV,
        start_new_session=True,
        preexec_fn=_limits(memory_mb),
    )
    try:
        return proc.wait(timeout=timeout), proc.pid
    except subprocess.TimeoutExpired:
        return None, proc.pid
    finally:
        # Also reached on KeyboardInterrupt or a worker shutdown signal: never leave it running.
        if proc.returncode is None:
            _kill_group(proc)


def _limits(memory_mb: int):
    address_space = (memory_mb * 1024 * 1024,) * 2
    no_core = (0, 0)

    # Runs in the child between fork and exec, where another thread's lock may be held:
    # so it only makes two system calls on values built beforehand.
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, address_space)
        resource.setrlimit(resource.RLIMIT_CORE, no_core)

    return apply


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _tail(log) -> str:
    size = log.seek(0, os.SEEK_END)
    log.seek(max(0, size - STDERR_TAIL_BYTES))
    return log.read().decode("utf-8", "replace")


def readable_error(stderr: str, args: Sequence[str], returncode: int) -> str:
    """The last informative line of ffmpeg's log, without addresses or our file paths."""
    if returncode < 0:
        # Killed by a signal: with RLIMIT_AS set, usually an allocation that failed hard.
        return f"ffmpeg was stopped by signal {-returncode} (it may have run out of memory)"
    lines = [_CONTEXT_PREFIX.sub("", line.strip()) for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    specific = [line for line in lines if not _GENERIC_LINES.match(line)]
    if not lines:
        return f"ffmpeg failed with exit code {returncode}"
    return "ffmpeg: " + _without_paths((specific or lines)[-1], args)


def _without_paths(line: str, args: Sequence[str]) -> str:
    # File paths in messages name the worker's temporary folders, which mean nothing to a reader.
    for arg in args:
        path = arg.removeprefix("file:")
        if os.sep in path and path in line:
            line = line.replace(arg, os.path.basename(path)).replace(path, os.path.basename(path))
    return line
