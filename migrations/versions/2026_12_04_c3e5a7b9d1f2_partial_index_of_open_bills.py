"""The open bills in an index of their own (partial: 12 % of the bills at full size), with
every column the aging panel and the arrears ledger group: they no longer read the bill table.

Revision ID: c3e5a7b9d1f2
Revises: b7c1d9e2f4a6
Create Date: 2026-12-04 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'c3e5a7b9d1f2'
down_revision = 'b7c1d9e2f4a6'
branch_labels = None
depends_on = None

OPEN_BILLS = sa.text("status IN ('unpaid', 'partly_paid')")


def upgrade():
    op.create_index('ix_bill_open', 'bill',
                    ['household_id', 'due_on', 'amount', 'paid', 'period', 'community_id', 'status'],
                    unique=False, sqlite_where=OPEN_BILLS, postgresql_where=OPEN_BILLS)


def downgrade():
    op.drop_index('ix_bill_open', table_name='bill', sqlite_where=OPEN_BILLS, postgresql_where=OPEN_BILLS)
