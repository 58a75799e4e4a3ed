"""image text and personal detail flags

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:00:49.337829
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('personal_detail_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_personal_detail_flag_artefact_id_artefact'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'], name=op.f('fk_personal_detail_flag_reviewed_by_id_user_account')),
    sa.ForeignKeyConstraint(['segment_id'], ['transcript_segment.id'], name=op.f('fk_personal_detail_flag_segment_id_transcript_segment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_detail_flag'))
    )
    with op.batch_alter_table('personal_detail_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_detail_flag_artefact_id'), ['artefact_id'], unique=False)

    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_text', sa.Text(), server_default='', nullable=False))

    


def downgrade() -> None:
    
    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.drop_column('image_text')

    with op.batch_alter_table('personal_detail_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_detail_flag_artefact_id'))

    op.drop_table('personal_detail_flag')
    
