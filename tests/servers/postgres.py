"""A throwaway PostgreSQL cluster per test session (per xdist worker), started from the installed binaries.

``postgres_url`` is the session's ``chorus`` database; ``fresh_postgres_url`` is a new, empty
database for one test, dropped afterwards.
"""

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from tests.servers import unavailable

USER = "chorus"


def _bindir() -> Path | None:
    candidates = []
    if pg_config := shutil.which("pg_config"):
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        candidates.append(bindir)
    # Debian's postgresql package does not put initdb on PATH; the newest version wins.
    versioned = glob.glob("/usr/lib/postgresql/[0-9]*/bin")
    candidates += sorted(versioned, key=lambda p: float(Path(p).parent.name), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin(port: int) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=port, user=USER, dbname="postgres", autocommit=True)


class _Cluster:
    def __init__(self, bindir: Path, root: Path):
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = 0
        # PostgreSQL refuses to run as root, so as root the cluster belongs to the postgres user.
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *args: str) -> subprocess.CompletedProcess:
        # cwd: the postgres user may not be allowed into the caller's working directory.
        return subprocess.run(self.prefix + list(args), cwd=self.root, capture_output=True, text=True)

    def init(self) -> None:
        if self.prefix:
            shutil.chown(self.root, user="postgres")
        result = self.run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER,
            "-E", "UTF8", "--locale=C", "--no-sync",
        )
        if result.returncode:
            raise RuntimeError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def start(self) -> None:
        # A port taken by another xdist worker between probing and binding fails the start;
        # a few fresh ports make that race harmless.
        for _ in range(5):
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k '{self.root}' "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            result = self.run(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                "-l", str(self.log), "-w", "-t", "60", "start",
            )
            if result.returncode == 0:
                return
        log = self.log.read_text() if self.log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{log}")

    def stop(self) -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture(scope="session")
def _postgres_cluster():
    bindir = _bindir()
    if bindir is None:
        unavailable("PostgreSQL server", "apt-get install postgresql")
    if os.geteuid() == 0 and not (shutil.which("runuser") and _user_exists("postgres")):
        # As root the server must run as postgres; the package creates that user.
        unavailable("PostgreSQL server (user postgres, runuser)", "apt-get install postgresql")
    # Not pytest's tmp_path: its base directory is private to the current user, and as root
    # the server runs as postgres and must reach its data and socket directory.
    root = Path(tempfile.mkdtemp(prefix="chorus-pg-"))
    cluster = _Cluster(bindir, root)
    try:
        cluster.init()
        cluster.start()
        try:
            with _admin(cluster.port) as conn:
                conn.execute("CREATE DATABASE chorus")
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(_postgres_cluster) -> str:
    """SQLAlchemy URL of the session's ``chorus`` database; tests share it, so prefer fresh_postgres_url."""
    return f"postgresql+psycopg://{USER}@127.0.0.1:{_postgres_cluster.port}/chorus"


@pytest.fixture
def fresh_postgres_url(_postgres_cluster):
    """SQLAlchemy URL of a new empty database for this test only; dropped afterwards."""
    name = f"test_{secrets.token_hex(6)}"
    with _admin(_postgres_cluster.port) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield f"postgresql+psycopg://{USER}@127.0.0.1:{_postgres_cluster.port}/{name}"
    # FORCE: a test that leaves a pooled connection open must not break the drop.
    with _admin(_postgres_cluster.port) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
