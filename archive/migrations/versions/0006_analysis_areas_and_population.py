"""analysis areas and population

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('area_boundary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('geometry', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_area_boundary_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_boundary')),
    sa.UniqueConstraint('programme_id', 'area_code', name=op.f('uq_area_boundary_programme_id'))
    )
    with op.batch_alter_table('area_boundary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_area_boundary_programme_id'), ['programme_id'], unique=False)

    op.create_table('population_figure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=32), nullable=False),
    sa.Column('age_band', sa.Enum('family_0_5', '5_11', '11_15', '16_19', '20_25_send', name='ageband', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_population_figure_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_figure')),
    sa.UniqueConstraint('programme_id', 'area_code', 'age_band', name=op.f('uq_population_figure_programme_id'))
    )
    with op.batch_alter_table('population_figure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_figure_programme_id'), ['programme_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('population_figure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_figure_programme_id'))
    op.drop_table('population_figure')
    with op.batch_alter_table('area_boundary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_area_boundary_programme_id'))
    op.drop_table('area_boundary')
