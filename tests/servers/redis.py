"""A throwaway Redis server per test session (per xdist worker), in memory only."""

import shutil
import socket
import subprocess
import time

import pytest
import redis

from tests.servers import unavailable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(binary: str, workdir) -> tuple[subprocess.Popen, int] | None:
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--logfile", str(workdir / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                client.ping()
                return proc, port
            except redis.ConnectionError:
                time.sleep(0.05)
    finally:
        client.close()
    proc.kill()
    proc.wait()
    return None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """``redis://127.0.0.1:<port>/0`` of a server shared by the session; nothing is persisted."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("Redis server", "apt-get install redis-server")
    workdir = tmp_path_factory.mktemp("redis")
    # Another xdist worker can take the probed port before redis binds it; retry on a new one.
    for _ in range(5):
        if started := _start(binary, workdir):
            break
    else:
        log = workdir / "redis.log"
        raise RuntimeError(f"redis-server did not start:\n{log.read_text() if log.exists() else ''}")
    proc, port = started
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
