"""pipeline steps

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 01:47:16.797811
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('pipeline_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artefact_id', sa.Uuid(), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'running', 'done', 'failed', 'skipped', name='stepstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['artefact_id'], ['artefact.id'], name=op.f('fk_pipeline_step_artefact_id_artefact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_step')),
    sa.UniqueConstraint('artefact_id', 'step', name=op.f('uq_pipeline_step_artefact_id'))
    )
    with op.batch_alter_table('pipeline_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pipeline_step_artefact_id'), ['artefact_id'], unique=False)

    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('has_faces', sa.Boolean(), nullable=False, server_default=sa.false()))

    


def downgrade() -> None:
    
    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.drop_column('has_faces')
        batch_op.drop_column('original_name')

    with op.batch_alter_table('pipeline_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pipeline_step_artefact_id'))

    op.drop_table('pipeline_step')
    
