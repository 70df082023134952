"""Master meters (总表) and their monthly readings, for the water/electricity balance (水电平衡).

Revision ID: 40b0ab806e62
Revises: 40f52334eb02
Create Date: 2026-12-03 08:16:40.476709

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '40b0ab806e62'
down_revision = '40f52334eb02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('master_meter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('meter_kind', postgresql.ENUM('water', 'electricity', 'gas', name='meter_kind', create_type=False), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('initial_reading', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=True),
    sa.Column('installed_on', sa.Date(), nullable=False),
    sa.Column('retired_on', sa.Date(), nullable=True),
    sa.CheckConstraint('multiplier > 0', name=op.f('ck_master_meter_multiplier_positive')),
    sa.CheckConstraint('retired_on IS NULL OR retired_on >= installed_on', name=op.f('ck_master_meter_retired_after_installed')),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_master_meter_building_id_building')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_master_meter_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_master_meter')),
    sa.UniqueConstraint('community_id', 'number', name=op.f('uq_master_meter_community_id_number'))
    )
    with op.batch_alter_table('master_meter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_master_meter_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_master_meter_community_id'), ['community_id'], unique=False)

    op.create_table('master_meter_reading',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('master_meter_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('previous_reading', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('current_reading', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('multiplier', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('replaced', sa.Boolean(), nullable=False),
    sa.Column('old_final_reading', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('new_start_reading', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('usage', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('read_by_id', sa.Integer(), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('multiplier > 0', name=op.f('ck_master_meter_reading_multiplier_positive')),
    sa.CheckConstraint('usage >= 0', name=op.f('ck_master_meter_reading_usage_not_negative')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_master_meter_reading_community_id_community')),
    sa.ForeignKeyConstraint(['master_meter_id'], ['master_meter.id'], name=op.f('fk_master_meter_reading_master_meter_id_master_meter')),
    sa.ForeignKeyConstraint(['read_by_id'], ['staff.id'], name=op.f('fk_master_meter_reading_read_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_master_meter_reading')),
    sa.UniqueConstraint('master_meter_id', 'period', name=op.f('uq_master_meter_reading_master_meter_id_period'))
    )
    with op.batch_alter_table('master_meter_reading', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_master_meter_reading_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_master_meter_reading_period'), ['period'], unique=False)



def downgrade():
    with op.batch_alter_table('master_meter_reading', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_master_meter_reading_period'))
        batch_op.drop_index(batch_op.f('ix_master_meter_reading_community_id'))

    op.drop_table('master_meter_reading')
    with op.batch_alter_table('master_meter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_master_meter_community_id'))
        batch_op.drop_index(batch_op.f('ix_master_meter_building_id'))

    op.drop_table('master_meter')
