"""Bill indexes for list pages: a community's bills newest first, and in one state.

Without it, ``/admin/bill/?community=…&status=unpaid`` found the community's
360,000 bills through ix_bill_community_period and sorted them all to show 20
(see BENCHMARKS.md); a collector's list (scoped to one community, no filter)
sorted them all too. Plain CREATE INDEX statements (no table rebuild on SQLite).

Revision ID: a544f0a19035
Revises: 6d0ff4c2ac90
Create Date: 2026-11-23 08:35:28.232086

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a544f0a19035'
down_revision = '6d0ff4c2ac90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_bill_community_status_id', 'bill', ['community_id', 'status', 'id'], unique=False)
    op.create_index('ix_bill_community_id_id', 'bill', ['community_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_bill_community_id_id', table_name='bill')
    op.drop_index('ix_bill_community_status_id', table_name='bill')
