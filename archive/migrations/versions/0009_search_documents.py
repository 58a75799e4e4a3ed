"""search documents for the PostgreSQL search backend

Revision ID: 0009
Revises: 0008

Also indexes artefact.updated_at, which search.service reads on every search.

The same tables on SQLite and PostgreSQL (empty on SQLite, where search uses Whoosh); only
PostgreSQL gets a real ``tsvector`` column and a GIN index. Filling them is ``chorus reindex``
with ``search_backend = "postgres"``.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('search_document',
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('age_band', sa.String(length=32), nullable=True),
    sa.Column('area', sa.String(length=32), nullable=True),
    sa.Column('place', sa.String(length=32), nullable=True),
    sa.Column('place_type', sa.String(length=32), nullable=True),
    sa.Column('themes', sa.Text(), nullable=False),
    sa.Column('polarity', sa.Text(), nullable=False),
    sa.Column('theme_polarity', sa.Text(), nullable=False),
    sa.Column('theme_source', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('transcript', sa.Text(), nullable=False),
    sa.Column('ocr', sa.Text(), nullable=False),
    sa.Column('segments', sa.Text(), nullable=False),
    sa.Column('tsv', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_search_document_artefact_id_artefact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('artefact_id', name=op.f('pk_search_document'))
    )
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_document_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index('ix_search_document_tsv', ['tsv'], unique=False, postgresql_using='gin')

    op.create_table('search_word',
    sa.Column('word', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_search_word'))
    )
    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.create_index('ix_artefact_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.drop_index('ix_artefact_updated_at')
    op.drop_table('search_word')
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.drop_index('ix_search_document_tsv', postgresql_using='gin')
        batch_op.drop_index(batch_op.f('ix_search_document_programme_id'))
    op.drop_table('search_document')
