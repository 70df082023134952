"""Forced password reset: a supervisor can require a new password at the next login.

Revision ID: c7001a9bb6bd
Revises: a544f0a19035
Create Date: 2026-11-23 09:31:25.162870

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7001a9bb6bd'
down_revision = 'a544f0a19035'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')

