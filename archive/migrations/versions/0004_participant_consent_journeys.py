"""participant consent journeys

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parent_consent_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('consent_record_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consent_record_id'], ['consent_record.id'], name=op.f('fk_parent_consent_link_consent_record_id_consent_record')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_parent_consent_link_participant_id_participant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_consent_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_parent_consent_link_token_hash'))
    )
    with op.batch_alter_table('parent_consent_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parent_consent_link_participant_id'), ['participant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parent_consent_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parent_consent_link_participant_id'))

    op.drop_table('parent_consent_link')
