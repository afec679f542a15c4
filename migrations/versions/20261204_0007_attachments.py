"""Attachments: basis documents uploaded to change requests and kept with published versions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:00:00
"""
from alembic import op
import sqlalchemy as sa
import kb.models.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_request_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'], name=op.f('fk_attachments_change_request_id_change_requests')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_attachments_unit_id_units')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachments_storage_key'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_change_request_id'), ['change_request_id'], unique=False)

    op.create_table('knowledge_version_attachments',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_knowledge_version_attachments_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['version_id'], ['knowledge_versions.id'], name=op.f('fk_knowledge_version_attachments_version_id_knowledge_versions')),
    sa.PrimaryKeyConstraint('version_id', 'attachment_id', name=op.f('pk_knowledge_version_attachments'))
    )
    with op.batch_alter_table('knowledge_version_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_knowledge_version_attachments_attachment', ['attachment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('knowledge_version_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_version_attachments_attachment')
    op.drop_table('knowledge_version_attachments')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_change_request_id'))
    op.drop_table('attachments')
