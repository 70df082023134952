"""Sessions end at logout (a generation counter in the session) and supervisors lift login locks.

Revision ID: b41e7d9c3a52
Revises: b4c1d2e3f405
Create Date: 2026-12-02 15:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b41e7d9c3a52'
down_revision = 'b4c1d2e3f405'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('login_lock_lifted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('login_lock_lifted_at')
        batch_op.drop_column('session_generation')
