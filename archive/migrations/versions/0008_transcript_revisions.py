"""transcript versions and revisions, and redactions

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transcript') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch.add_column(sa.Column('approved_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('approved_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_transcript_approved_by_id_user_account', 'user_account', ['approved_by_id'], ['id'])
    op.create_table('transcript_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('old_text', sa.Text(), nullable=False),
    sa.Column('new_text', sa.Text(), nullable=False),
    sa.Column('old_speaker', sa.String(length=32), nullable=True),
    sa.Column('new_speaker', sa.String(length=32), nullable=True),
    sa.Column('editor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_transcript_revision_artefact_id_artefact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['editor_id'], ['user_account.id'], name=op.f('fk_transcript_revision_editor_id_user_account')),
    sa.ForeignKeyConstraint(['segment_id'], ['transcript_segment.id'], name=op.f('fk_transcript_revision_segment_id_transcript_segment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_revision'))
    )
    op.create_index(op.f('ix_transcript_revision_artefact_id'), 'transcript_revision', ['artefact_id'], unique=False)
    op.create_index(op.f('ix_transcript_revision_segment_id'), 'transcript_revision', ['segment_id'], unique=False)
    op.create_table('redaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('start', sa.Integer(), nullable=True),
    sa.Column('end', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('x', sa.Float(), nullable=True),
    sa.Column('y', sa.Float(), nullable=True),
    sa.Column('width', sa.Float(), nullable=True),
    sa.Column('height', sa.Float(), nullable=True),
    sa.Column('t_start', sa.Float(), nullable=True),
    sa.Column('t_end', sa.Float(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_redaction_artefact_id_artefact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_redaction_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['segment_id'], ['transcript_segment.id'], name=op.f('fk_redaction_segment_id_transcript_segment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redaction'))
    )
    op.create_index(op.f('ix_redaction_artefact_id'), 'redaction', ['artefact_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_redaction_artefact_id'), table_name='redaction')
    op.drop_table('redaction')
    op.drop_index('ix_transcript_revision_segment_id', table_name='transcript_revision')
    op.drop_index('ix_transcript_revision_artefact_id', table_name='transcript_revision')
    op.drop_table('transcript_revision')
    with op.batch_alter_table('transcript') as batch:
        batch.drop_constraint('fk_transcript_approved_by_id_user_account', type_='foreignkey')
        batch.drop_column('approved_by_id')
        batch.drop_column('approved_at')
        batch.drop_column('version')
