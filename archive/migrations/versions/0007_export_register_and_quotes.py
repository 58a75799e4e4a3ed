"""export register and quotes

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('export_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('query_text', sa.Text(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('recalled_at', sa.DateTime(), nullable=True),
    sa.Column('recalled_by_id', sa.Integer(), nullable=True),
    sa.Column('recall_note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_export_record_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_export_record_programme_id_programme')),
    sa.ForeignKeyConstraint(['recalled_by_id'], ['user_account.id'], name=op.f('fk_export_record_recalled_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_record'))
    )
    with op.batch_alter_table('export_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_record_programme_id'), ['programme_id'], unique=False)

    op.create_table('export_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('export_id', sa.Integer(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('consent_level', sa.Integer(), nullable=False),
    sa.Column('consent_credit', sa.Boolean(), nullable=False),
    sa.Column('consent_face', sa.Boolean(), nullable=False),
    sa.Column('consent_voice', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_export_item_artefact_id_artefact')),
    sa.ForeignKeyConstraint(['export_id'], ['export_record.id'], name=op.f('fk_export_item_export_id_export_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_item')),
    sa.UniqueConstraint('export_id', 'artefact_id', name=op.f('uq_export_item_export_id'))
    )
    with op.batch_alter_table('export_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_item_artefact_id'), ['artefact_id'], unique=False)

    op.create_table('quote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('start_seconds', sa.Float(), nullable=True),
    sa.Column('end_seconds', sa.Float(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_quote_artefact_id_artefact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_quote_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_quote_programme_id_programme')),
    sa.ForeignKeyConstraint(['segment_id'], ['transcript_segment.id'], name=op.f('fk_quote_segment_id_transcript_segment'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote'))
    )
    with op.batch_alter_table('quote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_artefact_id'), ['artefact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quote_programme_id'), ['programme_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_programme_id'))
        batch_op.drop_index(batch_op.f('ix_quote_artefact_id'))
    op.drop_table('quote')
    with op.batch_alter_table('export_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_item_artefact_id'))
    op.drop_table('export_item')
    with op.batch_alter_table('export_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_record_programme_id'))
    op.drop_table('export_record')
