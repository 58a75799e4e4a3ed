"""Throwaway PostgreSQL, Redis and S3 servers for the tests, started from installed binaries.

A test that needs a server it cannot start skips with the package to install, except when
``CHORUS_REQUIRE_SERVICES=1`` (as in CI): then the missing service fails the run.
"""

import os

import pytest


def unavailable(what: str, install_hint: str) -> None:
    """Skip (or, when services are required, fail) because `what` cannot be started."""
    message = f"{what} is not available here: {install_hint}"
    if os.environ.get("CHORUS_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (CHORUS_REQUIRE_SERVICES=1, so this is a failure)", pytrace=False)
    pytest.skip(message)
