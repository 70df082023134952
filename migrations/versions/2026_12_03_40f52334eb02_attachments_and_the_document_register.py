"""Attachments and the document register (档案): files on households, residents, repair orders
and decoration applications, each in its owner's community, removed with a reason, never deleted.

Revision ID: 40f52334eb02
Revises: 606642036cd6
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '40f52334eb02'
down_revision = '606642036cd6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_type', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('id_card', 'property_certificate', 'contract', 'before_photo', 'after_photo', 'drawing', 'other', name='attachment_category', native_enum=False, length=30), nullable=False),
    sa.Column('confidentiality', sa.Enum('normal', 'personal', 'confidential', name='attachment_confidentiality', native_enum=False, length=20), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=60), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('file_key', sa.String(length=64), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=64), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('filed', 'removed', name='attachment_status', native_enum=False, length=10), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.Column('removal_reason', sa.String(length=500), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_attachment_community_id_community')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['staff.id'], name=op.f('fk_attachment_removed_by_id_staff')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['staff.id'], name=op.f('fk_attachment_uploaded_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_attachment_owner', ['owner_type', 'owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_uploaded_at'), ['uploaded_at'], unique=False)



def downgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_uploaded_at'))
        batch_op.drop_index(batch_op.f('ix_attachment_status'))
        batch_op.drop_index('ix_attachment_owner')
        batch_op.drop_index(batch_op.f('ix_attachment_community_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_category'))

    op.drop_table('attachment')
