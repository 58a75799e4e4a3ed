"""exhibits: the ids live at publish, and the static copies made

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('exhibit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_item_ids', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('exhibit', schema=None) as batch_op:
        batch_op.alter_column('published_item_ids', server_default=None)

    op.create_table('exhibit_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exhibit_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_exhibit_export_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['exhibit_id'], ['exhibit.id'], name=op.f('fk_exhibit_export_exhibit_id_exhibit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exhibit_export'))
    )
    with op.batch_alter_table('exhibit_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exhibit_export_exhibit_id'), ['exhibit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('exhibit_export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exhibit_export_exhibit_id'))
    op.drop_table('exhibit_export')
    with op.batch_alter_table('exhibit', schema=None) as batch_op:
        batch_op.drop_column('published_item_ids')
