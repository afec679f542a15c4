"""correction tasks, policy documents, calendar overrides, job runs

Correction tasks with their history, reminders and operators' flags; the
register of policy documents; the office's calendar overrides and confirmed
years; scheduled job runs and the scheduler lease. Independent of 0003.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 11:06:20.469658
"""
from alembic import op
import sqlalchemy as sa
import kb.models.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('trigger', sa.String(length=12), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('started_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("outcome = 'running' OR finished_at IS NOT NULL", name=op.f('ck_job_runs_finished_has_time')),
    sa.CheckConstraint("outcome IN ('running','ok','failed')", name=op.f('ck_job_runs_valid_outcome')),
    sa.CheckConstraint("trigger IN ('scheduler','command')", name=op.f('ck_job_runs_valid_trigger')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_started', ['job', 'started_at'], unique=False)

    op.create_table('scheduler_leases',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('acquired_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases'))
    )
    op.create_table('calendar_confirmed_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_calendar_confirmed_years_plausible_year')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_calendar_confirmed_years_confirmed_by_id_users')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_confirmed_years'))
    )
    op.create_table('calendar_overrides',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('holiday','working_day')", name=op.f('ck_calendar_overrides_valid_kind')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_calendar_overrides_set_by_id_users')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_overrides'))
    )
    op.create_table('policy_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_number', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('in_force','amended','repealed')", name=op.f('ck_policy_documents_valid_status')),
    sa.CheckConstraint('effective_on IS NULL OR effective_on >= published_on', name=op.f('ck_policy_documents_effect_after_publication')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_policy_documents_created_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_policy_documents_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_documents')),
    sa.UniqueConstraint('doc_number', name=op.f('uq_policy_documents_doc_number'))
    )
    with op.batch_alter_table('policy_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_documents_unit_id'), ['unit_id'], unique=False)

    op.create_table('policy_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("to_status IN ('in_force','amended','repealed')", name=op.f('ck_policy_status_changes_valid_to_status')),
    sa.CheckConstraint('from_status IS NULL OR from_status <> to_status', name=op.f('ck_policy_status_changes_is_a_change')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_policy_status_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['policy_documents.id'], name=op.f('fk_policy_status_changes_document_id_policy_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_status_changes'))
    )
    with op.batch_alter_table('policy_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_status_changes_document_id'), ['document_id'], unique=False)

    op.create_table('correction_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('received_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('change_request_id', sa.Integer(), nullable=True),
    sa.Column('policy_document_id', sa.Integer(), nullable=True),
    sa.Column('policy_change_id', sa.Integer(), nullable=True),
    sa.Column('cycle_starts_on', sa.Date(), nullable=True),
    sa.Column('cycle_ends_on', sa.Date(), nullable=True),
    sa.Column('decline_justification', sa.Text(), nullable=True),
    sa.Column('decline_requested_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decline_rejection', sa.Text(), nullable=True),
    sa.Column('declined_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_version', sa.Integer(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('overdue_marked_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source <> 'office_feedback' OR reason IN ('unclear', 'incomplete', 'contradictory', 'regulation_conflict', 'cites_repealed', 'other')", name=op.f('ck_correction_tasks_feedback_has_reason')),
    sa.CheckConstraint("source <> 'yearly_verification' OR (entry_id IS NOT NULL AND cycle_starts_on IS NOT NULL AND cycle_ends_on IS NOT NULL)", name=op.f('ck_correction_tasks_verification_names_cycle')),
    sa.CheckConstraint("source IN ('office_feedback', 'operator_suggestion', 'city_notice', 'unit_self_found', 'policy_change', 'emergency', 'yearly_verification')", name=op.f('ck_correction_tasks_valid_source')),
    sa.CheckConstraint("state <> 'decline_requested' OR decline_justification IS NOT NULL", name=op.f('ck_correction_tasks_decline_has_justification')),
    sa.CheckConstraint("state <> 'declined' OR declined_at IS NOT NULL", name=op.f('ck_correction_tasks_declined_has_time')),
    sa.CheckConstraint("state <> 'in_progress' OR change_request_id IS NOT NULL", name=op.f('ck_correction_tasks_in_progress_is_linked')),
    sa.CheckConstraint("state <> 'resolved' OR (resolved_at IS NOT NULL AND on_time IS NOT NULL)", name=op.f('ck_correction_tasks_resolved_has_outcome')),
    sa.CheckConstraint("state IN ('open', 'in_progress', 'decline_requested', 'resolved', 'declined')", name=op.f('ck_correction_tasks_valid_state')),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_requests.id'], name=op.f('fk_correction_tasks_change_request_id_change_requests')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_correction_tasks_created_by_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['knowledge_entries.id'], name=op.f('fk_correction_tasks_entry_id_knowledge_entries')),
    sa.ForeignKeyConstraint(['policy_change_id'], ['policy_status_changes.id'], name=op.f('fk_correction_tasks_policy_change_id_policy_status_changes')),
    sa.ForeignKeyConstraint(['policy_document_id'], ['policy_documents.id'], name=op.f('fk_correction_tasks_policy_document_id_policy_documents')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_correction_tasks_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_tasks')),
    sa.UniqueConstraint('entry_id', 'cycle_starts_on', name='uq_correction_tasks_entry_cycle'),
    sa.UniqueConstraint('policy_change_id', 'entry_id', name='uq_correction_tasks_policy_change_entry')
    )
    with op.batch_alter_table('correction_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_tasks_change_request_id'), ['change_request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_tasks_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_tasks_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_tasks_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_tasks_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_tasks_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_correction_tasks_unit_state', ['unit_id', 'state'], unique=False)

    op.create_table('knowledge_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('entry_version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('raised_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('triaged_by_id', sa.Integer(), nullable=True),
    sa.Column('triaged_at', kb.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('triage_reason', sa.Text(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('suggestion','wrong_answer')", name=op.f('ck_knowledge_flags_valid_kind')),
    sa.CheckConstraint("state <> 'accepted' OR task_id IS NOT NULL", name=op.f('ck_knowledge_flags_accepted_has_task')),
    sa.CheckConstraint("state <> 'dismissed' OR triage_reason IS NOT NULL", name=op.f('ck_knowledge_flags_dismissed_has_reason')),
    sa.CheckConstraint("state IN ('pending','accepted','dismissed')", name=op.f('ck_knowledge_flags_valid_state')),
    sa.ForeignKeyConstraint(['entry_id'], ['knowledge_entries.id'], name=op.f('fk_knowledge_flags_entry_id_knowledge_entries')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name=op.f('fk_knowledge_flags_raised_by_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['correction_tasks.id'], name=op.f('fk_knowledge_flags_task_id_correction_tasks')),
    sa.ForeignKeyConstraint(['triaged_by_id'], ['users.id'], name=op.f('fk_knowledge_flags_triaged_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_flags')),
    sa.UniqueConstraint('task_id', name=op.f('uq_knowledge_flags_task_id'))
    )
    with op.batch_alter_table('knowledge_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_flags_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_flags_raised_by_id'), ['raised_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_flags_state'), ['state'], unique=False)

    op.create_table('task_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_task_events_actor_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['correction_tasks.id'], name=op.f('fk_task_events_task_id_correction_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_events'))
    )
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_events_task_id'), ['task_id'], unique=False)

    op.create_table('task_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('due_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', kb.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('due_soon','overdue')", name=op.f('ck_task_reminders_valid_kind')),
    sa.ForeignKeyConstraint(['task_id'], ['correction_tasks.id'], name=op.f('fk_task_reminders_task_id_correction_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_reminders')),
    sa.UniqueConstraint('task_id', 'kind', name='uq_task_reminders_task_kind')
    )


def downgrade() -> None:
    op.drop_table('task_reminders')
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_events_task_id'))

    op.drop_table('task_events')
    with op.batch_alter_table('knowledge_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_flags_state'))
        batch_op.drop_index(batch_op.f('ix_knowledge_flags_raised_by_id'))
        batch_op.drop_index(batch_op.f('ix_knowledge_flags_entry_id'))

    op.drop_table('knowledge_flags')
    with op.batch_alter_table('correction_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_correction_tasks_unit_state')
        batch_op.drop_index(batch_op.f('ix_correction_tasks_unit_id'))
        batch_op.drop_index(batch_op.f('ix_correction_tasks_state'))
        batch_op.drop_index(batch_op.f('ix_correction_tasks_entry_id'))
        batch_op.drop_index(batch_op.f('ix_correction_tasks_due_at'))
        batch_op.drop_index(batch_op.f('ix_correction_tasks_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_correction_tasks_change_request_id'))

    op.drop_table('correction_tasks')
    with op.batch_alter_table('policy_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_status_changes_document_id'))

    op.drop_table('policy_status_changes')
    with op.batch_alter_table('policy_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_documents_unit_id'))

    op.drop_table('policy_documents')
    op.drop_table('calendar_overrides')
    op.drop_table('calendar_confirmed_years')
    op.drop_table('scheduler_leases')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_started')

    op.drop_table('job_runs')
