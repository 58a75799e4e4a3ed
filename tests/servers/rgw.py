"""A throwaway single-node Ceph RGW (S3) on loopback: one mon, one memstore OSD, one radosgw.

Only a real RGW checks what moto accepts blindly: presigned signatures and expiry, wrong
secrets, versioned deletes (see the S3 section of shared/design/reliability.md).

Use the session fixture ``rgw_s3``, which yields an :class:`S3Endpoint`; import it into a test
module (``from tests.servers.rgw import rgw_s3``) or a conftest. Starting takes ~12 s, once per
session; ports are picked free, data lives in memory (memstore OSD) and a temp folder, and
teardown waits for every daemon to exit. Needs Debian's ``radosgw ceph-mon ceph-osd``.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import unavailable

BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool", "ceph-authtool")
INSTALL_HINT = "apt-get install radosgw ceph-mon ceph-osd"
START_TIMEOUT = 90
STOP_TIMEOUT = 30
MAX_RESTARTS = 2


@dataclass(frozen=True)
class S3Endpoint:
    """Where an S3 server listens and the credentials of a user allowed to create buckets."""

    endpoint_url: str
    access_key: str
    secret_key: str


class RgwStartError(RuntimeError):
    """The cluster did not come up; the message carries the tail of the failing daemon's log."""


START_ATTEMPTS = 3


def _free_port() -> int:
    # The daemons take a fixed port from their config, so ask the kernel for one that is free
    # now; the short window before the daemon binds it is acceptable for a test fixture.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(root: Path, fsid: str, mon_port: int, rgw_port: int) -> str:
    return f"""\
[global]
fsid = {fsid}
mon_host = v1:127.0.0.1:{mon_port}
mon_initial_members = a
public_network = 127.0.0.0/8
ms_bind_msgr2 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
mon_allow_pool_size_one = true
osd_crush_chooseleaf_type = 0
run_dir = {root}/run
admin_socket = {root}/run/$cluster-$name.asok
log_file = {root}/log/$cluster-$name.log
keyring = {root}/keyring
[mon]
mon_data = {root}/mon/$cluster-$id
[osd]
osd_data = {root}/osd/$cluster-$id
osd_objectstore = memstore
memstore_device_bytes = 1073741824
[client.rgw.gw]
rgw_frontends = beast endpoint=127.0.0.1:{rgw_port}
"""


class RgwCluster:
    """Start with :meth:`start`, always :meth:`stop` (it waits for every daemon to exit)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf = root / "ceph.conf"
        self._daemons: list[tuple[str, subprocess.Popen]] = []  # (ceph name, process)

    def start(self) -> S3Endpoint:
        for sub in ("mon/ceph-a", "osd/ceph-0", "run", "log"):
            (self.root / sub).mkdir(parents=True)
        fsid = str(uuid.uuid4())
        mon_port, rgw_port = _free_port(), _free_port()
        self.conf.write_text(_config(self.root, fsid, mon_port, rgw_port))
        keyring, monmap = str(self.root / "keyring"), str(self.root / "monmap")
        self._run("ceph-authtool", "--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *")
        self._run("monmaptool", "--create", "--addv", "a", f"[v1:127.0.0.1:{mon_port}]", "--fsid", fsid, monmap)
        self._run("ceph-mon", "-c", str(self.conf), "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", keyring)
        self._daemon("ceph-mon", "mon.a", "-i", "a")
        osd_id = self._run("ceph", "-c", str(self.conf), "--connect-timeout", "30", "osd", "create").strip()
        self._run("ceph-osd", "-c", str(self.conf), "-i", osd_id, "--mkfs")
        self._daemon("ceph-osd", f"osd.{osd_id}", "-i", osd_id)
        self._daemon("radosgw", "client.rgw.gw", "-n", "client.rgw.gw")
        endpoint = f"http://127.0.0.1:{rgw_port}"
        self._wait_for_http(endpoint)
        access_key, secret_key = secrets.token_hex(10).upper(), secrets.token_urlsafe(30)
        self._run(
            "radosgw-admin", "-c", str(self.conf), "user", "create", "--uid=chorus-tests",
            "--display-name=chorus tests", f"--access-key={access_key}", f"--secret-key={secret_key}",
        )
        return S3Endpoint(endpoint, access_key, secret_key)

    def stop(self) -> None:
        # Reverse order, and wait for each exit, so no daemon outlives the session or its temp folder.
        for _, proc in reversed(self._daemons):
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._daemons.clear()

    def _run(self, *argv: str) -> str:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=self.root)
        if result.returncode != 0:
            raise RgwStartError(f"{' '.join(argv[:3])} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
        return result.stdout

    def _daemon(self, program: str, ceph_name: str, *args: str) -> None:
        self._daemons.append((ceph_name, self._spawn([program, "-f", "-c", str(self.conf), *args], ceph_name)))

    def _spawn(self, argv: list[str], ceph_name: str) -> subprocess.Popen:
        # Foreground (-f) children, so teardown can wait on them instead of chasing pid files.
        with open(self.root / "log" / f"ceph-{ceph_name}.stderr", "ab") as log:
            return subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.root
            )

    def _wait_for_http(self, url: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        restarts = 0
        while time.monotonic() < deadline:
            for i, (name, proc) in enumerate(self._daemons):
                if proc.poll() is None:
                    continue
                # A daemon that dies while starting gets MAX_RESTARTS more tries. The known case:
                # ceph-osd 16.2 sometimes sends its first mon command before it has the monmap
                # (fsid all zeros), is refused with 'wrong fsid' and exits; started again, it comes up.
                if restarts == MAX_RESTARTS:
                    raise RgwStartError(f"{name} exited with {proc.returncode}: {self._log_tail(name)}")
                restarts += 1
                self._daemons[i] = (name, self._spawn(proc.args, name))
            try:
                urllib.request.urlopen(url, timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer means the gateway is serving
            except OSError:
                time.sleep(0.25)
        tail = self._log_tail("client.rgw.gw")
        raise RgwStartError(f"radosgw did not answer on {url} within {START_TIMEOUT}s: {tail}")

    def _log_tail(self, ceph_name: str) -> str:
        logs = sorted((self.root / "log").glob(f"ceph-{ceph_name}.*"))
        return " | ".join(p.read_text(errors="replace")[-1500:] for p in logs)


@pytest.fixture(scope="session")
def rgw_s3():
    """A running Ceph RGW for the whole session, as an :class:`S3Endpoint` with a fresh user."""
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        unavailable("Ceph RGW", INSTALL_HINT)
    failures = []
    # A fresh single-node cluster sometimes refuses its first commands (EPERM from a monitor that has
    # not finished forming its quorum); a clean start on new ports and a new folder gets past it.
    for _ in range(START_ATTEMPTS):
        with tempfile.TemporaryDirectory(prefix="chorus-rgw-") as tmp:
            cluster = RgwCluster(Path(tmp))
            try:
                try:
                    endpoint = cluster.start()
                except (RgwStartError, subprocess.TimeoutExpired) as exc:
                    failures.append(str(exc))
                    continue
                yield endpoint
                return
            finally:
                cluster.stop()
    pytest.fail(f"Ceph RGW did not start in {START_ATTEMPTS} tries: {' | '.join(failures)}", pytrace=False)
