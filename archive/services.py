"""The running system's parts, built once from the settings: database, storage, queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .db import make_engine, make_session_factory
from .settings import Settings


@dataclass
class Services:
    settings: Settings
    _overrides: dict = field(default_factory=dict)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def storage(self):
        from .storage import make_storage

        return make_storage(self.settings)

    @cached_property
    def huey(self):
        from ingest.queue import configure_queue

        return configure_queue(self.settings)

    def session(self) -> Session:
        return self.session_factory()

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
