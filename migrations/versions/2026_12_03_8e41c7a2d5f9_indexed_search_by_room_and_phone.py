"""The search box finds a room, and a phone by its last four digits, through an index.

``phone LIKE '%1234'`` reads every resident (120,000 at a real company's size);
the last four digits are kept in their own indexed column, filled from the phone on
save and here for the rows already there. A room is looked up by (room, building):
a room without a building ("1201") uses the same index.

Revision ID: 8e41c7a2d5f9
Revises: 7a3c9e1f2b64
Create Date: 2026-12-03 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '8e41c7a2d5f9'
down_revision = '7a3c9e1f2b64'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('resident') as batch_op:
        batch_op.add_column(sa.Column('phone_last4', sa.String(length=4), nullable=True))
    last4 = "substr(phone, -4)" if op.get_bind().dialect.name == "sqlite" else "right(phone, 4)"
    op.execute(f"UPDATE resident SET phone_last4 = {last4} WHERE phone IS NOT NULL")
    op.create_index('ix_resident_phone_last4', 'resident', ['phone_last4'], unique=False)
    op.create_index('ix_household_room_building_id', 'household', ['room', 'building_id'], unique=False)


def downgrade():
    op.drop_index('ix_household_room_building_id', table_name='household')
    op.drop_index('ix_resident_phone_last4', table_name='resident')
    with op.batch_alter_table('resident') as batch_op:
        batch_op.drop_column('phone_last4')
