"""Database engine and sessions: SQLite by default, PostgreSQL when configured.

Domain functions take a SQLAlchemy ``Session`` argument and never reach for a global one,
so the web app, the worker, the CLI and the tests each decide how sessions are scoped.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUnavailable(Exception):
    """The database cannot be reached or used; the message says which and why."""


def make_engine(database_url: str) -> Engine:
    """Create an engine; for SQLite, create the folder and set the pragmas Chorus relies on."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the worker write while pages read; FULL makes an acknowledged commit survive power loss;
    # secure_delete overwrites erased rows instead of leaving them in free pages.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def check_database(engine: Engine) -> None:
    """Raise DatabaseUnavailable unless the database answers and is migrated."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM alembic_version"))
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "alembic_version" in reason:
            raise DatabaseUnavailable(
                f"the database at {engine.url.render_as_string(hide_password=True)} has no Chorus tables yet: "
                "run `chorus init`"
            ) from None
        raise DatabaseUnavailable(
            f"cannot use the database at {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None


def flush_erased_pages(engine: Engine) -> None:
    """Make deleted rows unrecoverable from the files: SQLite keeps old pages in the WAL until a checkpoint."""
    if engine.url.get_backend_name() != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
