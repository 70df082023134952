"""Parking rentals (月租车位), owned spaces (产权车位) and the paid-services price list (有偿服务).

Revision ID: b4c1d2e3f405
Revises: e5b7c2d4a913
Create Date: 2026-12-02 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4c1d2e3f405'
down_revision = 'e5b7c2d4a913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'parking_rental',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('parking_space_id', sa.Integer(), nullable=True),
        sa.Column('vehicle_id', sa.Integer(), nullable=True),
        sa.Column('monthly_fee', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('paid_through', sa.Date(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.CheckConstraint('monthly_fee > 0', name=op.f('ck_parking_rental_monthly_fee_positive')),
        sa.CheckConstraint('parking_space_id IS NOT NULL OR vehicle_id IS NOT NULL',
                           name=op.f('ck_parking_rental_space_or_vehicle')),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_parking_rental_community_id_community')),
        sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_parking_rental_household_id_household')),
        sa.ForeignKeyConstraint(['parking_space_id'], ['parking_space.id'],
                                name=op.f('fk_parking_rental_parking_space_id_parking_space')),
        sa.ForeignKeyConstraint(['vehicle_id'], ['vehicle.id'], name=op.f('fk_parking_rental_vehicle_id_vehicle')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_rental')),
    )
    with op.batch_alter_table('parking_rental', schema=None) as batch_op:
        for column in ('community_id', 'household_id', 'parking_space_id', 'vehicle_id', 'paid_through'):
            batch_op.create_index(batch_op.f(f'ix_parking_rental_{column}'), [column], unique=False)
    op.create_table(
        'service_price',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.CheckConstraint('price > 0', name=op.f('ck_service_price_price_positive')),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_service_price_community_id_community')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_price')),
        sa.UniqueConstraint('community_id', 'name', name=op.f('uq_service_price_community_id_name')),
    )
    with op.batch_alter_table('service_price', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_price_community_id'), ['community_id'], unique=False)
    with op.batch_alter_table('parking_space', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_household_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_parking_space_owner_household_id'), ['owner_household_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_parking_space_owner_household_id_household'), 'household',
                                    ['owner_household_id'], ['id'])


def downgrade():
    with op.batch_alter_table('parking_space', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_parking_space_owner_household_id_household'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_parking_space_owner_household_id'))
        batch_op.drop_column('owner_household_id')
    with op.batch_alter_table('service_price', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_price_community_id'))
    op.drop_table('service_price')
    with op.batch_alter_table('parking_rental', schema=None) as batch_op:
        for column in ('community_id', 'household_id', 'parking_space_id', 'vehicle_id', 'paid_through'):
            batch_op.drop_index(batch_op.f(f'ix_parking_rental_{column}'))
    op.drop_table('parking_rental')
