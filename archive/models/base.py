"""Declarative base and shared column helpers."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from enum import Enum as PyEnum

from sqlalchemy import DateTime, Enum, Integer, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names make Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite has no time zones and would hand back naive ones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC datetimes")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class IntEnumType(TypeDecorator):
    """An IntEnum kept as a plain integer, so consent levels compare with >= inside SQL."""

    impl = Integer
    cache_ok = True

    def __init__(self, enum_cls):
        super().__init__()
        self.enum_cls = enum_cls

    def process_bind_param(self, value, dialect):
        return None if value is None else int(self.enum_cls(value))

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum_cls(value)


def str_enum(enum_cls: type[PyEnum]) -> Enum:
    """Store enums as checked strings: the same schema on SQLite and PostgreSQL, and readable in dumps."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        name=enum_cls.__name__.lower(),
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
