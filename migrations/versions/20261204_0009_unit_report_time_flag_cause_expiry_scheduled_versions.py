"""The unit's report time on tasks, flag causes, expiry tasks, scheduled versions, reviewer amendments, declined suggestions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:50:00

* ``correction_tasks.unit_done_at``: the moment the unit reported the fix
  that was then published (its reviewer's approval sent it to the office),
  or its own verification or withdrawal; the unit's timeliness is judged by
  it, the office's by ``resolved_at``. Rows resolved before this revision
  keep it NULL and are read with ``resolved_at``, as they were judged.
* ``correction_tasks.source`` may be ``expiry``: an entry's expiry date is
  near and the unit extends or replaces it (``cycle_ends_on`` is that date).
* ``knowledge_entries.scheduled_number``: a published modification whose
  date of effect is still ahead; the published version stays live until then.
* ``reviews.amendments``, ``reviews.based_on_revision``: what a unit reviewer
  changed in the proposal before approving it (Art. 8(2) "修改或完善并审定"),
  and the revision it was based on.
* A suggestion (知识建议) the office declines ends in the change-request state
  ``declined``; the office's review of a suggestion is ``accept`` or
  ``decline``.
* ``knowledge_flags.cause``: why the answer was wrong, set by the office when
  it accepts the flag (``late_policy``: a new policy handed over late,
  Huantai 3.3). NULL: not attributed.
"""
from alembic import op
import sqlalchemy as sa
import kb.models.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


_SOURCES = ("source IN ('office_feedback', 'operator_suggestion', 'city_notice', 'unit_self_found', "
            "'policy_change', 'emergency', 'yearly_verification'{})")


_STATES = "state IN ('draft','unit_review','office_review','returned','published','cancelled'{})"


def upgrade() -> None:
    with op.batch_alter_table('correction_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_done_at', kb.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f('ck_correction_tasks_valid_source'), type_='check')
        batch_op.create_check_constraint(op.f('ck_correction_tasks_valid_source'), _SOURCES.format(", 'expiry'"))
    with op.batch_alter_table('knowledge_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_number', sa.Integer(), nullable=True))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amendments', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('based_on_revision', sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f('ck_reviews_valid_decision'), type_='check')
        batch_op.create_check_constraint(op.f('ck_reviews_valid_decision'),
                                         "decision IN ('approve','return','publish','accept','decline')")
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_change_requests_valid_state'), type_='check')
        batch_op.create_check_constraint(op.f('ck_change_requests_valid_state'), _STATES.format(",'declined'"))
    with op.batch_alter_table('knowledge_flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause', sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(op.f('ck_knowledge_flags_valid_cause'), "cause IS NULL OR cause IN ('late_policy')")


def downgrade() -> None:
    with op.batch_alter_table('knowledge_flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_knowledge_flags_valid_cause'), type_='check')
        batch_op.drop_column('cause')
    op.execute("UPDATE change_requests SET state = 'returned' WHERE state = 'declined'")
    op.execute("UPDATE reviews SET decision = 'publish' WHERE decision = 'accept'")
    op.execute("UPDATE reviews SET decision = 'return' WHERE decision = 'decline'")
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_change_requests_valid_state'), type_='check')
        batch_op.create_check_constraint(op.f('ck_change_requests_valid_state'), _STATES.format(""))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_reviews_valid_decision'), type_='check')
        batch_op.create_check_constraint(op.f('ck_reviews_valid_decision'), "decision IN ('approve','return','publish')")
        batch_op.drop_column('based_on_revision')
        batch_op.drop_column('amendments')
    with op.batch_alter_table('knowledge_entries', schema=None) as batch_op:
        batch_op.drop_column('scheduled_number')
    op.execute("DELETE FROM task_reminders WHERE task_id IN (SELECT id FROM correction_tasks WHERE source = 'expiry')")
    op.execute("DELETE FROM task_events WHERE task_id IN (SELECT id FROM correction_tasks WHERE source = 'expiry')")
    op.execute("DELETE FROM correction_tasks WHERE source = 'expiry'")
    with op.batch_alter_table('correction_tasks', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_correction_tasks_valid_source'), type_='check')
        batch_op.create_check_constraint(op.f('ck_correction_tasks_valid_source'), _SOURCES.format(""))
        batch_op.drop_column('unit_done_at')
