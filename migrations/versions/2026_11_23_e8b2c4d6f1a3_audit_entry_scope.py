"""Audit entries carry the scope (community) of their record, so a reader scoped to
some communities sees only theirs. Older entries stay without one: they are shown
only to readers of every community.

Revision ID: e8b2c4d6f1a3
Revises: d3e5a1f0b7c2
Create Date: 2026-11-23 13:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8b2c4d6f1a3'
down_revision = 'd3e5a1f0b7c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_entry_scope_id'), ['scope_id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_scope_id'))
        batch_op.drop_column('scope_id')
