"""Refund lines and pay-out: a refund names the receipt lines it gives back, and is
paid out (posted) by the collector who hands the money over, after approval.

Revision ID: f1a2b3c4d5e6
Revises: b4f1c9e2a7d6
Create Date: 2026-12-02 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'b4f1c9e2a7d6'
branch_labels = None
depends_on = None

OLD_STATES = ('requested', 'approved', 'rejected')


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():  # a new enum value must be committed before it is used
            op.execute("ALTER TYPE refund_status ADD VALUE IF NOT EXISTS 'paid_out' AFTER 'approved'")
    with op.batch_alter_table('refund_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_advance', sa.Numeric(precision=12, scale=2), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('paid_out_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paid_out_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_refund_request_paid_out_by_id'), ['paid_out_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_refund_request_paid_out_by_id_staff'), 'staff',
                                    ['paid_out_by_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_refund_request_from_advance_not_negative'),
                                         'from_advance >= 0')
    with op.batch_alter_table('refund_request', schema=None) as batch_op:
        batch_op.alter_column('from_advance', server_default=None)
    op.create_table(
        'refund_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('refund_id', sa.Integer(), nullable=False),
        sa.Column('allocation_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_refund_line_amount_positive')),
        sa.ForeignKeyConstraint(['allocation_id'], ['payment_allocation.id'],
                                name=op.f('fk_refund_line_allocation_id_payment_allocation')),
        sa.ForeignKeyConstraint(['refund_id'], ['refund_request.id'],
                                name=op.f('fk_refund_line_refund_id_refund_request')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_line')),
    )
    with op.batch_alter_table('refund_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refund_line_allocation_id'), ['allocation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refund_line_refund_id'), ['refund_id'], unique=False)
    # Until now approval posted the refund at once: those requests were paid out by their approver.
    op.execute("UPDATE refund_request SET status = 'paid_out', paid_out_by_id = decided_by_id, "
               "paid_out_at = decided_at WHERE status = 'approved'")


def downgrade():
    op.execute("UPDATE refund_request SET status = 'approved' WHERE status = 'paid_out'")
    with op.batch_alter_table('refund_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refund_line_refund_id'))
        batch_op.drop_index(batch_op.f('ix_refund_line_allocation_id'))
    op.drop_table('refund_line')
    with op.batch_alter_table('refund_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_refund_request_from_advance_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_refund_request_paid_out_by_id_staff'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_refund_request_paid_out_by_id'))
        batch_op.drop_column('paid_out_at')
        batch_op.drop_column('paid_out_by_id')
        batch_op.drop_column('from_advance')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TYPE refund_status RENAME TO refund_status_old")
        op.execute("CREATE TYPE refund_status AS ENUM %s" % (OLD_STATES,))
        op.execute("ALTER TABLE refund_request ALTER COLUMN status TYPE refund_status "
                   "USING status::text::refund_status")
        op.execute("DROP TYPE refund_status_old")
