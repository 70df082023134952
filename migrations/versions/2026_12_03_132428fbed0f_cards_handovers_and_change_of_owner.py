"""Cards (卡证), handovers (入住/收楼) with their defects, changes of owner (过户), and the day a
household is billed from.

Revision ID: 132428fbed0f
Revises: 40b0ab806e62
Create Date: 2026-12-03 08:16:32.423695

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '132428fbed0f'
down_revision = '40b0ab806e62'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('access', 'parking', 'lift', 'other', name='card_kind'), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('deposit', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('deposit_bill_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('active', 'replaced', 'cancelled', name='card_status'), nullable=False),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.Column('replacement_reason', sa.Enum('lost', 'damaged', name='card_replacement_reason'), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('deposit >= 0', name=op.f('ck_card_deposit_not_negative')),
    sa.CheckConstraint('valid_until IS NULL OR valid_until >= issued_on', name=op.f('ck_card_valid_after_issue')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_card_community_id_community')),
    sa.ForeignKeyConstraint(['deposit_bill_id'], ['bill.id'], name=op.f('fk_card_deposit_bill_id_bill')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_card_household_id_household')),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['card.id'], name=op.f('fk_card_replaced_by_id_card')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_card_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card')),
    sa.UniqueConstraint('community_id', 'kind', 'number', name=op.f('uq_card_community_id_kind_number'))
    )
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_status'), ['status'], unique=False)

    op.create_table('handover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('handed_over_on', sa.Date(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('keys_handed_over', sa.Integer(), nullable=False),
    sa.Column('keys_description', sa.String(length=200), nullable=True),
    sa.Column('water_reading', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('electricity_reading', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('gas_reading', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('new_state', postgresql.ENUM('vacant', 'occupied', 'decorating', 'rented', name='household_state', create_type=False), nullable=False),
    sa.Column('billing_starts_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'completed', name='handover_status'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('keys_handed_over >= 0', name=op.f('ck_handover_keys_not_negative')),
    sa.CheckConstraint('water_reading >= 0 AND electricity_reading >= 0 AND gas_reading >= 0', name=op.f('ck_handover_readings_not_negative')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_handover_household_id_household')),
    sa.ForeignKeyConstraint(['owner_id'], ['resident.id'], name=op.f('fk_handover_owner_id_resident')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_handover_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover'))
    )
    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_status'), ['status'], unique=False)

    op.create_table('ownership_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('transferred_on', sa.Date(), nullable=False),
    sa.Column('new_owner_id', sa.Integer(), nullable=False),
    sa.Column('previous_owners', sa.String(length=200), nullable=False),
    sa.Column('carried_over', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.CheckConstraint('carried_over >= 0', name=op.f('ck_ownership_transfer_carried_over_not_negative')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_ownership_transfer_household_id_household')),
    sa.ForeignKeyConstraint(['new_owner_id'], ['resident.id'], name=op.f('fk_ownership_transfer_new_owner_id_resident')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], name=op.f('fk_ownership_transfer_recorded_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ownership_transfer'))
    )
    with op.batch_alter_table('ownership_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ownership_transfer_household_id'), ['household_id'], unique=False)

    op.create_table('handover_defect',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('room', sa.String(length=30), nullable=False),
    sa.Column('item', sa.String(length=60), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', postgresql.ENUM('plumbing', 'electrical', 'doors_windows', 'walls_ceilings', 'public_facilities', 'other', name='repair_category', create_type=False), nullable=False),
    sa.Column('repair_order_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('recorded', 'repair_ordered', name='defect_status'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['handover_id'], ['handover.id'], name=op.f('fk_handover_defect_handover_id_handover')),
    sa.ForeignKeyConstraint(['repair_order_id'], ['repair_order.id'], name=op.f('fk_handover_defect_repair_order_id_repair_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_defect'))
    )
    with op.batch_alter_table('handover_defect', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_defect_handover_id'), ['handover_id'], unique=False)

    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billing_starts_on', sa.Date(), nullable=True))



def downgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_column('billing_starts_on')

    with op.batch_alter_table('handover_defect', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_defect_handover_id'))

    op.drop_table('handover_defect')
    with op.batch_alter_table('ownership_transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ownership_transfer_household_id'))

    op.drop_table('ownership_transfer')
    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_status'))
        batch_op.drop_index(batch_op.f('ix_handover_household_id'))

    op.drop_table('handover')
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_status'))
        batch_op.drop_index(batch_op.f('ix_card_resident_id'))
        batch_op.drop_index(batch_op.f('ix_card_household_id'))
        batch_op.drop_index(batch_op.f('ix_card_community_id'))

    op.drop_table('card')
    # PostgreSQL keeps enum types after their tables are gone.
    for name in ("card_kind", "card_status", "card_replacement_reason", "handover_status", "defect_status"):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
