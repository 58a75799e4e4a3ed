"""Creating and upgrading the database schema with Alembic, the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from .models import Base


def _alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("archive") / "migrations"))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (idempotent)."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def new_revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the models (a developer tool: `chorus db revision`)."""
    with engine.begin() as connection:
        command.revision(_alembic_config(connection), message=message, autogenerate=True)


def differences(engine: Engine) -> list:
    """How the live schema differs from the models; empty when the migrations are complete."""
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
