"""Verification history, frozen monthly compliance counts, webhook subscriptions and deliveries

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 07:46:12.405261
"""
from alembic import op
import sqlalchemy as sa
import kb.models.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compliance_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_label', sa.String(length=30), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('rules_key', sa.String(length=64), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('frozen_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recomputed_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recomputed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['recomputed_by_id'], ['users.id'], name=op.f('fk_compliance_snapshots_recomputed_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_compliance_snapshots_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_snapshots')),
    sa.UniqueConstraint('period_label', 'unit_id', 'rules_key', name='uq_compliance_snapshots_period_unit_rules')
    )
    with op.batch_alter_table('compliance_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_snapshots_period', ['period_label', 'rules_key'], unique=False)

    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhook_subscriptions_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('knowledge_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('verified_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verified_by_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['knowledge_entries.id'], name=op.f('fk_knowledge_verifications_entry_id_knowledge_entries')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_knowledge_verifications_unit_id_units')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_knowledge_verifications_verified_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_verifications'))
    )
    with op.batch_alter_table('knowledge_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_verifications_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_knowledge_verifications_unit_verified', ['unit_id', 'verified_at'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('delivery_key', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replay_requested_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state <> 'delivered' OR delivered_at IS NOT NULL", name=op.f('ck_webhook_deliveries_delivered_has_time')),
    sa.CheckConstraint("state <> 'pending' OR next_attempt_at IS NOT NULL", name=op.f('ck_webhook_deliveries_pending_has_next_attempt')),
    sa.CheckConstraint("state IN ('pending','delivered','failed')", name=op.f('ck_webhook_deliveries_valid_state')),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('delivery_key', name=op.f('uq_webhook_deliveries_delivery_key'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('webhook_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('attempted_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('replay', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'], name=op.f('fk_webhook_attempts_delivery_id_webhook_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts'))
    )
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_attempts_delivery_id'), ['delivery_id'], unique=False)

    # Each entry's latest verification was all that was kept until now; carry it into the history.
    op.execute(
        "INSERT INTO knowledge_verifications (entry_id, unit_id, version, verified_at, verified_by_id) "
        "SELECT id, unit_id, published_number, verified_at, verified_by_id FROM knowledge_entries "
        "WHERE verified_at IS NOT NULL AND verified_by_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_attempts_delivery_id'))

    op.drop_table('webhook_attempts')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_state'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_next_attempt_at'))

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('knowledge_verifications', schema=None) as batch_op:
        batch_op.drop_index('ix_knowledge_verifications_unit_verified')
        batch_op.drop_index(batch_op.f('ix_knowledge_verifications_entry_id'))

    op.drop_table('knowledge_verifications')
    op.drop_table('webhook_subscriptions')
    with op.batch_alter_table('compliance_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_compliance_snapshots_period')

    op.drop_table('compliance_snapshots')
