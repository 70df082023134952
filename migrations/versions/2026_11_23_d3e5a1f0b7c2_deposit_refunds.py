"""Deposit refunds: a refund request may settle a paid deposit bill (退押金).

Revision ID: d3e5a1f0b7c2
Revises: c7001a9bb6bd
Create Date: 2026-11-23 12:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3e5a1f0b7c2'
down_revision = 'c7001a9bb6bd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('refund_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deposit_bill_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_refund_request_deposit_bill_id'), ['deposit_bill_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_refund_request_deposit_bill_id_bill'), 'bill',
                                    ['deposit_bill_id'], ['id'])


def downgrade():
    with op.batch_alter_table('refund_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_refund_request_deposit_bill_id_bill'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_refund_request_deposit_bill_id'))
        batch_op.drop_column('deposit_bill_id')
