"""Bill index for filtered list pages: a community's bills in one state, newest first.

Without it, ``/admin/bill/?community=…&status=unpaid`` found the community's
360,000 bills through ix_bill_community_period and sorted them all to show 20
(see BENCHMARKS.md). A plain CREATE INDEX (no table rebuild on SQLite).

Revision ID: a544f0a19035
Revises: 9c67bb1d5121
Create Date: 2026-11-23 08:35:28.232086

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a544f0a19035'
down_revision = '9c67bb1d5121'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_bill_community_status_id', 'bill', ['community_id', 'status', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_bill_community_status_id', table_name='bill')
