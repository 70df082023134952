"""Receipt numbers come from the document counters: each year's receipt counter becomes
the ``SK<year>`` series of serial_counter (one gapless counter for every numbered document).

Revision ID: c5e8a1d2f3b4
Revises: f1a2b3c4d5e6
Create Date: 2026-12-02 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e8a1d2f3b4'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("INSERT INTO serial_counter (series, n) "
               "SELECT 'SK' || CAST(year AS VARCHAR(4)), last FROM receipt_counter")
    op.drop_table('receipt_counter')


def downgrade():
    op.create_table('receipt_counter',
                    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('last', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('year', name=op.f('pk_receipt_counter')))
    op.execute("INSERT INTO receipt_counter (year, last) "
               "SELECT CAST(SUBSTR(series, 3) AS INTEGER), n FROM serial_counter WHERE series LIKE 'SK%'")
    op.execute("DELETE FROM serial_counter WHERE series LIKE 'SK%'")
