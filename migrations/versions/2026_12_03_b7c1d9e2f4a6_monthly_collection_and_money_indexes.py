"""The money pages at full size: each community's month of billed and collected kept in
``monthly_collection`` (filled by the readers, marked stale by the writes); refund
requests found by their refund receipt (a receipt looks its request up every time it
opens; without the index SQLite scanned every payment); the advance applied to bills by
time (the collection rate reads the money of one month).

Revision ID: b7c1d9e2f4a6
Revises: 8e41c7a2d5f9
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'b7c1d9e2f4a6'
down_revision = '8e41c7a2d5f9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monthly_collection',
                    sa.Column('community_id', sa.Integer(), nullable=False),
                    sa.Column('period', sa.String(length=7), nullable=False),
                    sa.Column('billed', sa.Numeric(precision=12, scale=2), nullable=True),
                    sa.Column('collected', sa.Numeric(precision=12, scale=2), nullable=True),
                    sa.Column('money_through', sa.DateTime(timezone=True), nullable=True),
                    sa.Column('generation', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                            name=op.f('fk_monthly_collection_community_id_community')),
                    sa.PrimaryKeyConstraint('community_id', 'period', name=op.f('pk_monthly_collection')))
    op.create_index(op.f('ix_refund_request_refund_payment_id'), 'refund_request', ['refund_payment_id'], unique=False)
    op.create_index(op.f('ix_advance_allocation_applied_at'), 'advance_allocation', ['applied_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_advance_allocation_applied_at'), table_name='advance_allocation')
    op.drop_index(op.f('ix_refund_request_refund_payment_id'), table_name='refund_request')
    op.drop_table('monthly_collection')
