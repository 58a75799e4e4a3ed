"""moto's in-process S3 server: fast, and fine for the app's S3 code paths, but it accepts any
signature and expiry, so it is never the evidence for presigned-URL safety (Ceph RGW is)."""

import secrets

import pytest

from .rgw import S3Endpoint


@pytest.fixture(scope="session")
def moto_s3():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield S3Endpoint(f"http://{host}:{port}", secrets.token_hex(10), secrets.token_hex(20))
    server.stop()
