"""Alembic environment: Chorus passes the connection in (see archive.schema); no alembic.ini is needed."""

from alembic import context

from archive.models import Base
from archive.models.base import IntEnumType, UTCDateTime


def render_item(type_, obj, autogen_context):
    """Render our column decorators as the plain types they store, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and isinstance(obj, IntEnumType):
        return "sa.Integer()"
    return False


config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only alter tables by copying them
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
