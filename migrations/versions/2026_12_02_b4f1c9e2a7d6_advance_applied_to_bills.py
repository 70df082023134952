"""The advance balance (预存) settles bills as they are issued: its allocations, and the
household flag that holds it back.

Revision ID: b4f1c9e2a7d6
Revises: b41e7d9c3a52
Create Date: 2026-12-02 15:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4f1c9e2a7d6'
down_revision = 'b41e7d9c3a52'
branch_labels = None
depends_on = None


def upgrade():
    # plain ALTER TABLE, also on SQLite: a batch copy of household would trip the foreign keys to it
    op.add_column('household', sa.Column('advance_held', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'advance_allocation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('bill_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_advance_allocation_amount_positive')),
        sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_advance_allocation_bill_id_bill')),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                name=op.f('fk_advance_allocation_community_id_community')),
        sa.ForeignKeyConstraint(['household_id'], ['household.id'],
                                name=op.f('fk_advance_allocation_household_id_household')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_advance_allocation')),
    )
    with op.batch_alter_table('advance_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advance_allocation_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_advance_allocation_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_advance_allocation_household_id'), ['household_id'], unique=False)


def downgrade():
    with op.batch_alter_table('advance_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advance_allocation_household_id'))
        batch_op.drop_index(batch_op.f('ix_advance_allocation_community_id'))
        batch_op.drop_index(batch_op.f('ix_advance_allocation_bill_id'))
    op.drop_table('advance_allocation')
    op.drop_column('household', 'advance_held')
