"""Bank statements (银行对账单) and their lines, matched to households and posted as payments.

Revision ID: 55bfca10f3c5
Revises: 43a4b4e1db46
Create Date: 2026-12-03 08:01:25.271115

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '55bfca10f3c5'
down_revision = '43a4b4e1db46'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('bank_account', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_bank_statement_community_id_community')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['staff.id'], name=op.f('fk_bank_statement_uploaded_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_statement'))
    )
    with op.batch_alter_table('bank_statement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_statement_community_id'), ['community_id'], unique=False)

    op.create_table('bank_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('bank_account', sa.String(length=40), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('transacted_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('payer', sa.String(length=100), nullable=True),
    sa.Column('payer_account', sa.String(length=40), nullable=True),
    sa.Column('memo', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('unmatched', 'proposed', 'posted', 'ignored', name='bank_line_status'), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('matched_by', sa.String(length=40), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_bank_line_amount_positive')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_bank_line_community_id_community')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_bank_line_household_id_household')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_bank_line_payment_id_payment')),
    sa.ForeignKeyConstraint(['statement_id'], ['bank_statement.id'], name=op.f('fk_bank_line_statement_id_bank_statement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_line')),
    sa.UniqueConstraint('bank_account', 'reference', name=op.f('uq_bank_line_reference'))
    )
    with op.batch_alter_table('bank_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_line_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_line_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_line_statement_id'), ['statement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_line_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_line_transacted_on'), ['transacted_on'], unique=False)



def downgrade():
    with op.batch_alter_table('bank_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_line_transacted_on'))
        batch_op.drop_index(batch_op.f('ix_bank_line_status'))
        batch_op.drop_index(batch_op.f('ix_bank_line_statement_id'))
        batch_op.drop_index(batch_op.f('ix_bank_line_household_id'))
        batch_op.drop_index(batch_op.f('ix_bank_line_community_id'))

    op.drop_table('bank_line')
    with op.batch_alter_table('bank_statement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_statement_community_id'))

    op.drop_table('bank_statement')
    sa.Enum(name='bank_line_status').drop(op.get_bind(), checkfirst=True)
