"""Shared fixtures: a real app on temporary storage, record factories, and the real servers."""

from __future__ import annotations

import os
import re
import shutil
from datetime import date, timedelta

import pytest

from archive import schema
from archive.db import flush_erased_pages, make_engine
from archive.accounts import create_user, grant_role
from archive.consent_records import ConsentChoice, record_consent
from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentGiver,
    ConsentLevel,
    PlaceType,
    Role,
    utcnow,
)
from archive.principal import SYSTEM
from archive.programmes import create_programme, create_session, join_session
from archive.services import Services
from archive.settings import load_settings

pytest_plugins = ["tests.servers.postgres", "tests.servers.redis", "tests.servers.rgw", "tests.servers.moto"]

STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_ambient_chorus_env(monkeypatch):
    """Tests build their own settings; a developer's CHORUS_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("CHORUS_") and name != "CHORUS_REQUIRE_SERVICES":
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path):
    return load_settings(data_dir=tmp_path / "data", queue_url="memory://")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """One migrated database file that each test copies, instead of migrating hundreds of times."""
    path = tmp_path_factory.mktemp("template") / "chorus.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    flush_erased_pages(engine)
    engine.dispose()
    return path


@pytest.fixture
def services(settings, migrated_sqlite):
    from ingest.jobs import bind_services
    from ingest.queue import configure_queue

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_sqlite, settings.data_dir / "chorus.sqlite3")
    svc = Services(settings)
    svc.storage.check()
    huey = configure_queue(settings)
    huey.immediate = True  # jobs run inside the request, so a test sees their effect at once
    svc.__dict__["huey"] = huey
    bind_services(svc)
    yield svc
    svc.close()


@pytest.fixture
def db(services):
    with services.session() as session:
        yield session


@pytest.fixture
def app(settings, services):
    from archive.web import create_app

    app = create_app(settings, services=services)
    app.config.update(TESTING=True, RATELIMIT_ENABLED=False)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class Factory:
    """Record factories with invented people, committed so the app sees them."""

    def __init__(self, db, storage):
        self.db = db
        self.storage = storage
        self.count = 0

    def _next(self) -> int:
        self.count += 1
        return self.count

    def programme(self, code=None):
        programme = create_programme(self.db, SYSTEM, code or f"prog-{self._next()}", "Test listening programme")
        self.db.commit()
        return programme

    def session(self, programme, area="RV01", valid_for=timedelta(hours=24)):
        session = create_session(self.db, SYSTEM, programme, "Test session", PlaceType.SCHOOL, area, None, valid_for)
        self.db.commit()
        return session

    def participant(self, session, band=AgeBand.AGE_16_19, birth_month: date | None = None, alias=None):
        participant = join_session(self.db, session, alias or f"Tester {self._next()}", band, "fox")
        participant.birth_month = birth_month
        self.db.commit()
        return participant

    def consent(self, participant, level, artefact=None, giver=ConsentGiver.PARTICIPANT, **flags):
        record_consent(self.db, SYSTEM, participant, ConsentChoice(level=level, giver=giver, **flags), artefact)
        self.db.commit()

    def artefact(self, participant, kind=ArtefactKind.TEXT_STORY, story="", title="An item", reviewed=True,
                 status=ArtefactStatus.READY, content: bytes | None = None):
        artefact = Artefact(
            programme_id=participant.programme_id, session_id=participant.session_id,
            participant_id=participant.id, kind=kind, title=title, story=story, status=status,
            reviewed_at=utcnow() if reviewed else None,
        )
        self.db.add(artefact)
        self.db.flush()
        if content is not None:
            stored = self.storage.put(f"{artefact.storage_prefix}master", _bytes_io(content))
            artefact.master_key, artefact.sha256, artefact.size_bytes = stored.key, stored.sha256, stored.size
        from archive.consent import refresh_consent

        refresh_consent(self.db, participant)
        self.db.commit()
        return artefact

    def shared(self, level=ConsentLevel.REPORT, band=AgeBand.AGE_16_19, programme=None, **kwargs):
        """A participant who consented at `level`, with one reviewed, ready item."""
        programme = programme or self.programme()
        participant = self.participant(self.session(programme), band=band)
        self.consent(participant, level)
        return self.artefact(participant, **kwargs)

    def staff(self, programme=None, role: Role | None = None, email=None):
        user = create_user(self.db, SYSTEM, email or f"staff{self._next()}@example.org", "Sam Staff", STAFF_PASSWORD)
        if programme is not None and role is not None:
            grant_role(self.db, SYSTEM, user, programme, role)
        self.db.commit()
        return user


def _bytes_io(content: bytes):
    import io

    return io.BytesIO(content)


@pytest.fixture
def make(db, services):
    return Factory(db, services.storage)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


def _token_if_any(html: str) -> str:
    # Tests that switch CSRF off get pages without a token.
    return csrf_token(html) if 'name="csrf_token"' in html else ""


def sign_in_staff(client, email: str, password: str = STAFF_PASSWORD):
    page = client.get("/staff/sign-in")
    return client.post(
        "/staff/sign-in", data={"email": email, "password": password, "csrf_token": _token_if_any(page.text)}
    )


def join_as_participant(client, code: str, alias: str = "Blue Fox", band: str = "16_19"):
    page = client.get("/join")
    return client.post(
        "/join",
        data={"code": code, "alias": alias, "avatar": "fox", "age_band": band, "csrf_token": csrf_token(page.text)},
    )


@pytest.fixture(scope="session")
def portrait(tmp_path_factory):
    """A real photograph with a face (scikit-image's astronaut, 512 px), saved as the pipeline saves a web image."""
    from importlib import metadata
    from pathlib import Path

    from PIL import Image

    source = Path(metadata.distribution("scikit-image").locate_file("skimage/data/astronaut.png"))
    path = tmp_path_factory.mktemp("portrait") / "web.jpg"
    Image.open(source).convert("RGB").save(path, "JPEG", quality=92)
    return path


def store_derivative(services, db, artefact, kind, path, media_type, width=None, height=None):
    """Store a file as one of an artefact's derivatives, as the pipeline would, and commit."""
    from archive.models import Derivative

    stored = services.storage.put(f"{artefact.storage_prefix}derivatives/{kind}", path)
    derivative = Derivative(artefact_id=artefact.id, kind=kind, object_key=stored.key, sha256=stored.sha256,
                            size_bytes=stored.size, media_type=media_type, width=width, height=height)
    db.add(derivative)
    db.commit()
    return derivative


@pytest.fixture(scope="session")
def pseudo_catalogs(tmp_path_factory):
    """A compiled pseudo-language catalog (tests/pseudo_locale.py), built once per test run."""
    from tests.pseudo_locale import build_catalogs

    return build_catalogs(tmp_path_factory.mktemp("translations"))
