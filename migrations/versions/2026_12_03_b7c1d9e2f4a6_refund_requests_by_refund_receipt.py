"""Refund requests found by their refund receipt through an index: a receipt looks its
request up every time it opens (without it SQLite scanned every payment).

Revision ID: b7c1d9e2f4a6
Revises: 40f52334eb02
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7c1d9e2f4a6'
down_revision = '40f52334eb02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_refund_request_refund_payment_id'), 'refund_request', ['refund_payment_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_refund_request_refund_payment_id'), table_name='refund_request')
