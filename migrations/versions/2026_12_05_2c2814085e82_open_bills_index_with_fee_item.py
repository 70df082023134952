"""The partial index of open bills also holds the fee item: the collection rate's prior
arrears (open bills of earlier periods, deposits left out) are summed from the index alone
instead of reading the bill table (on PostgreSQL 49,000 pages of it at full size).

Revision ID: 2c2814085e82
Revises: 5d8f1a3c7e20
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '2c2814085e82'
down_revision = '5d8f1a3c7e20'
branch_labels = None
depends_on = None

OPEN_BILLS = sa.text("status IN ('unpaid', 'partly_paid')")
COLUMNS = ['household_id', 'due_on', 'amount', 'paid', 'period', 'community_id', 'status']


def _replace(columns):
    op.drop_index('ix_bill_open', table_name='bill', sqlite_where=OPEN_BILLS, postgresql_where=OPEN_BILLS)
    op.create_index('ix_bill_open', 'bill', columns, unique=False, sqlite_where=OPEN_BILLS,
                    postgresql_where=OPEN_BILLS)


def upgrade():
    _replace([*COLUMNS, 'fee_item_id'])


def downgrade():
    _replace(COLUMNS)
