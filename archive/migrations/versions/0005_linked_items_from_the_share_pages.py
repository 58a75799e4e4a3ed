"""linked items from the share pages

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attached_to_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_artefact_attached_to_id'), ['attached_to_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_artefact_attached_to_id_artefact'), 'artefact', ['attached_to_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('artefact', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_artefact_attached_to_id_artefact'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_artefact_attached_to_id'))
        batch_op.drop_column('attached_to_id')
