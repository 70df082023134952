"""Notices for the boards (通知/公告): the notice, with its audience of communities and buildings.

Revision ID: 43a4b4e1db46
Revises: c5e8a1d2f3b4
Create Date: 2026-12-03 07:36:41.965739

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '43a4b4e1db46'
down_revision = 'c5e8a1d2f3b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('notice', 'announcement', 'reminder', name='notice_kind'), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('body', sa.String(length=4000), nullable=False),
    sa.Column('company_wide', sa.Boolean(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=True),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'posted', 'withdrawn', name='notice_status'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('valid_until >= valid_from', name=op.f('ck_notice_valid_until_after_valid_from')),
    sa.ForeignKeyConstraint(['approver_id'], ['staff.id'], name=op.f('fk_notice_approver_id_staff')),
    sa.ForeignKeyConstraint(['author_id'], ['staff.id'], name=op.f('fk_notice_author_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_valid_from'), ['valid_from'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_valid_until'), ['valid_until'], unique=False)
    op.create_table('notice_building',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_notice_building_building_id_building')),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_building_notice_id_notice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', 'building_id', name=op.f('pk_notice_building'))
    )
    with op.batch_alter_table('notice_building', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_building_building_id'), ['building_id'], unique=False)
    op.create_table('notice_community',
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_notice_community_community_id_community')),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_community_notice_id_notice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notice_id', 'community_id', name=op.f('pk_notice_community'))
    )
    with op.batch_alter_table('notice_community', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_community_community_id'), ['community_id'], unique=False)



def downgrade():
    with op.batch_alter_table('notice_community', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_community_community_id'))
    op.drop_table('notice_community')
    with op.batch_alter_table('notice_building', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_building_building_id'))
    op.drop_table('notice_building')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_valid_until'))
        batch_op.drop_index(batch_op.f('ix_notice_valid_from'))
        batch_op.drop_index(batch_op.f('ix_notice_status'))
    op.drop_table('notice')
    # PostgreSQL keeps enum types after their tables are gone.
    for name in ("notice_kind", "notice_status"):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
