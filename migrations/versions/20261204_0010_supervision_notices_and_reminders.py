"""oversight: supervision notices, reminders by e-mail and robots, calls answered directly (直办率)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:56:25.495859
"""
from alembic import op
import sqlalchemy as sa
import kb.models.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credential_epoch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_epoch'))
    )
    with op.batch_alter_table('knowledge_usages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_directly', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_index('ix_knowledge_usages_used_at', ['used_at'], unique=False)

    op.create_table('notification_cursors',
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_notification_cursors'))
    )
    op.create_table('unit_robots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=True),
    sa.CheckConstraint("channel IN ('wecom','dingtalk')", name=op.f('ck_unit_robots_robot_channel')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_robots_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_robots')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_unit_robots_unit_id'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('created_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('gave_up_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("channel IN ('email','wecom','dingtalk')", name=op.f('ck_notifications_valid_channel')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_notifications_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_notifications_waiting', ['sent_at', 'next_attempt_at'], unique=False)

    op.create_table('user_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('notify', sa.Boolean(), nullable=False),
    sa.Column('daily_digest', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_contacts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_contacts')),
    sa.UniqueConstraint('user_id', name=op.f('uq_user_contacts_user_id'))
    )
    op.create_table('supervision_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('issued_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_supervision_notices_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_supervision_notices_issued_by_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['correction_tasks.id'], name=op.f('fk_supervision_notices_task_id_correction_tasks')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_supervision_notices_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_notices')),
    sa.UniqueConstraint('task_id', name=op.f('uq_supervision_notices_task_id')),
    sa.UniqueConstraint('year', 'number', name='uq_supervision_notices_year_number')
    )
    with op.batch_alter_table('supervision_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_notices_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    op.drop_table('credential_epoch')
    with op.batch_alter_table('knowledge_usages', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_usages_used_at')
        batch_op.drop_column('answered_directly')

    with op.batch_alter_table('supervision_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_notices_unit_id'))

    op.drop_table('supervision_notices')
    op.drop_table('user_contacts')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_waiting')
        batch_op.drop_index(batch_op.f('ix_notifications_unit_id'))

    op.drop_table('notifications')
    op.drop_table('unit_robots')
    op.drop_table('notification_cursors')
