"""The repair-order and reception-record lists are searched through indexes, as the household
list is: the caller's name from its start (a range on the name's index) and a phone by its last
four digits (a column of their own, filled from the phone on save and here for the rows already
there); the number of a repair order is already unique, so indexed.

Revision ID: e4b8f1a6c3d7
Revises: 4b7e2d9c1a36
Create Date: 2026-12-04 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e4b8f1a6c3d7'
down_revision = '4b7e2d9c1a36'
branch_labels = None
depends_on = None

TABLES = (("repair_order", "reporter"), ("reception_record", "contact"))


def upgrade():
    last4 = "substr(phone, -4)" if op.get_bind().dialect.name == "sqlite" else "right(phone, 4)"
    for table, name in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('phone_last4', sa.String(length=4), nullable=True))
        op.execute(f"UPDATE {table} SET phone_last4 = {last4} WHERE phone IS NOT NULL")
        op.create_index(f'ix_{table}_phone_last4', table, ['phone_last4'], unique=False)
        op.create_index(f'ix_{table}_{name}', table, [name], unique=False)


def downgrade():
    for table, name in TABLES:
        op.drop_index(f'ix_{table}_{name}', table_name=table)
        op.drop_index(f'ix_{table}_phone_last4', table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('phone_last4')
