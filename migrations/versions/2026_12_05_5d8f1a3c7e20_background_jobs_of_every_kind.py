"""Background jobs of every kind (exports, bill runs started from the page, large imports) in
one table: ``export_job`` becomes ``background_job``, with the job's kind, its parameters, its
outcome, its stored file by key and a lock a second job of the same work cannot take.

Revision ID: 5d8f1a3c7e20
Revises: c3e5a7b9d1f2
Create Date: 2026-12-05 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d8f1a3c7e20'
down_revision = 'c3e5a7b9d1f2'
branch_labels = None
depends_on = None

# the columns both tables have, under the same names
SHARED = ("requester_id", "requester_name", "scope_ids", "url", "language", "title", "status", "created_at",
          "heartbeat_at", "finished_at", "error", "attempts", "started_at", "lease_owner", "lease_until")


def upgrade():
    op.create_table(
        'background_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=False),
        sa.Column('requester_name', sa.String(length=80), nullable=False),
        sa.Column('scope_ids', sa.JSON(), nullable=True),
        sa.Column('endpoint', sa.String(length=60), nullable=True),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('params', sa.JSON(), nullable=True),
        sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='job_status', native_enum=False,
                                    length=10), nullable=False),
        sa.Column('progress_done', sa.Integer(), nullable=False),
        sa.Column('progress_total', sa.Integer(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('file_key', sa.String(length=200), nullable=True),
        sa.Column('download_name', sa.String(length=200), nullable=True),
        sa.Column('lock_key', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lease_owner', sa.String(length=200), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_background_job')),
        sa.UniqueConstraint('lock_key', name=op.f('uq_background_job_lock_key')),
    )
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_background_job_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_background_job_requester_id'), ['requester_id'], unique=False)
    shared = ", ".join(SHARED)
    # the exports of the last days stay downloadable (new ids: a queued one is queued again by housekeeping)
    op.execute(f"INSERT INTO background_job (kind, endpoint, progress_done, progress_total, file_key, download_name, "
               f"{shared}) SELECT 'export', endpoint, rows_written, rows_total, 'exports/' || file_name, "
               f"download_name, {shared} FROM export_job")
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_job_requester_id'))
        batch_op.drop_index(batch_op.f('ix_export_job_created_at'))
    op.drop_table('export_job')


def downgrade():
    op.create_table(
        'export_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=False),
        sa.Column('requester_name', sa.String(length=80), nullable=False),
        sa.Column('scope_ids', sa.JSON(), nullable=True),
        sa.Column('endpoint', sa.String(length=60), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='export_status', native_enum=False,
                                    length=10), nullable=False),
        sa.Column('rows_written', sa.Integer(), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=True),
        sa.Column('file_name', sa.String(length=100), nullable=False),
        sa.Column('download_name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('lease_owner', sa.String(length=200), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_job')),
    )
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_job_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_job_requester_id'), ['requester_id'], unique=False)
    shared = ", ".join(SHARED)
    # exports only: the other kinds did not exist before (a stored import upload stays until housekeeping
    # of the files; none is kept past its job)
    op.execute(f"INSERT INTO export_job (endpoint, rows_written, rows_total, file_name, download_name, {shared}) "
               f"SELECT endpoint, progress_done, progress_total, substr(file_key, 9), download_name, {shared} "
               f"FROM background_job WHERE kind = 'export' AND file_key IS NOT NULL AND endpoint IS NOT NULL "
               f"AND download_name IS NOT NULL")
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_background_job_requester_id'))
        batch_op.drop_index(batch_op.f('ix_background_job_created_at'))
    op.drop_table('background_job')
