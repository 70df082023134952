"""Text messages to owners: templates, the send log, and the household's opt-out.

Revision ID: d7a3e9b1c2f4
Revises: d16e8a4a5b9e
Create Date: 2026-12-03 08:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd7a3e9b1c2f4'
down_revision = 'd16e8a4a5b9e'
branch_labels = None
depends_on = None

KIND = sa.Enum('payment_reminder', 'repair_registered', 'repair_completed', name='message_kind',
               native_enum=False, length=30)


def upgrade():
    # plain ALTER TABLE, also on SQLite: a batch copy of household would trip the foreign keys to it
    op.add_column('household', sa.Column('sms_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'message_template',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', KIND, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('provider_template_id', sa.String(length=40), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_template')),
        sa.UniqueConstraint('kind', name=op.f('uq_message_template_kind')),
    )
    op.create_table(
        'sms_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('kind', KIND, nullable=False),
        sa.Column('template_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('state', sa.Enum('queued', 'sending', 'sent', 'failed', 'skipped', 'interrupted',
                                   name='message_state', native_enum=False, length=12), nullable=False),
        sa.Column('skipped_because', sa.Enum('opted_out', 'no_mobile', name='message_skip_reason',
                                             native_enum=False, length=10), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tried_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('provider_message_id', sa.String(length=64), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('idempotency_key', sa.String(length=120), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('queued_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_sms_message_community_id_community')),
        sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_sms_message_household_id_household')),
        sa.ForeignKeyConstraint(['queued_by_id'], ['staff.id'], name=op.f('fk_sms_message_queued_by_id_staff')),
        sa.ForeignKeyConstraint(['template_id'], ['message_template.id'],
                                name=op.f('fk_sms_message_template_id_message_template')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_message')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_sms_message_idempotency_key')),
    )
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        for column in ('community_id', 'household_id', 'kind', 'state', 'not_before', 'queued_at'):
            batch_op.create_index(batch_op.f(f'ix_sms_message_{column}'), [column], unique=False)


def downgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        for column in ('queued_at', 'not_before', 'state', 'kind', 'household_id', 'community_id'):
            batch_op.drop_index(batch_op.f(f'ix_sms_message_{column}'))
    op.drop_table('sms_message')
    op.drop_table('message_template')
    op.drop_column('household', 'sms_opt_out')
