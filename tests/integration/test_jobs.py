"""The scheduled jobs: a rerun does nothing; a crash halfway leaves no duplicates; every run is recorded."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from kb import jobs
from kb.jobs import JobContext
from kb.models import CalendarOverride, CorrectionTask, JobRun, TaskReminder
from kb.proposal import Proposal
from kb.services import changes, tasks
from tests.support.factories import World


@pytest.fixture
def world(session_factory, clock):
    return World(session_factory, clock)


@pytest.fixture
def scene(world, clock):
    """Two units with published entries, feedback tasks, an expiring notice and a provisional deadline."""
    cats = world.seed_categories()
    unit_a, unit_b = world.make_unit("HX", "华山街道办事处", "town"), world.make_unit("RSJ", "区人社局")
    office, _ = world.make_user("office_admin")
    people = {}
    for key, unit in (("a", unit_a), ("b", unit_b)):
        people[f"maint_{key}"], _ = world.make_user("maintainer", unit)
        people[f"rev_{key}"], _ = world.make_user("unit_reviewer", unit)
    entries = [world.publish_new(people[f"maint_{k}"], people[f"rev_{k}"], office, cats["社会民生"],
                                 question=f"第{i}个问题？").entry_id
               for i, k in enumerate("aaabb")]
    notice = world.publish_new(people["maint_a"], people["rev_a"], office, cats["通知公告"],
                               question="春节期间政务大厅停止办公的通知", expires_on=date(2026, 11, 20)).entry_id
    feedback = [tasks.create_task(world.uow(), office, source="office_feedback", reason="unclear", detail="表述不清",
                                  entry_id=entry_id, now=clock()) for entry_id in entries]
    clock.set("2026-12-30T10:00:00+08:00")
    late = tasks.create_task(world.uow(), office, source="city_notice", unit_code="HX", detail="年底通知",
                             now=clock())
    return {"office": office, "entries": entries, "notice": notice, "feedback": feedback, "year_end": late,
            **people}


@pytest.fixture
def context(world, clock):
    return JobContext(uow_factory=world.uow, clock=clock, batch_size=2)


def count(session_factory, model, *where) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_marking_overdue_happens_once_per_task(scene, context, clock, session_factory):
    clock.set("2026-11-10T00:00:01+08:00")
    assert jobs.mark_overdue(context) == {"marked": 5}
    assert jobs.mark_overdue(context) == {"marked": 0}
    assert count(session_factory, TaskReminder, TaskReminder.kind == "overdue") == 5
    assert count(session_factory, CorrectionTask, CorrectionTask.overdue_marked_at.is_not(None)) == 5


def test_reminding_of_tasks_due_within_one_working_day_happens_once_per_task(scene, context, clock, session_factory):
    clock.set("2026-11-06T08:00:00+08:00")  # Friday; the feedback is due Monday
    assert jobs.remind_due_soon(context) == {"reminded": 5}
    assert jobs.remind_due_soon(context) == {"reminded": 0}
    clock.set("2026-11-09T08:00:00+08:00")
    assert jobs.remind_due_soon(context) == {"reminded": 0}


def test_opening_verification_tasks_happens_once_per_entry_and_cycle(scene, context, clock, session_factory):
    clock.set("2027-12-02T10:00:00+08:00")
    assert jobs.open_verification_tasks(context) == {"opened": 5}  # not the expired notice
    assert jobs.open_verification_tasks(context) == {"opened": 0}


def test_withdrawing_expired_notices_happens_once(scene, context, clock, session_factory):
    clock.set("2026-11-20T23:00:00+08:00")
    assert jobs.withdraw_expired_notices(context) == {"withdrawn": 0}  # still in effect on its last day
    clock.set("2026-11-21T00:10:00+08:00")
    assert jobs.withdraw_expired_notices(context) == {"withdrawn": 1}
    assert jobs.withdraw_expired_notices(context) == {"withdrawn": 0}


def test_recomputing_provisional_deadlines_happens_once_after_the_calendar_learns_the_days(
        scene, context, session_factory, clock):
    assert jobs.recompute_provisional_deadlines(context) == {"recomputed": 0}
    with session_factory() as s:  # the calendar learns 2027-01-01 some other way than through the use case
        s.add(CalendarOverride(day=date(2027, 1, 1), kind="holiday", set_at=clock()))
        s.commit()
    assert jobs.recompute_provisional_deadlines(context) == {"recomputed": 1}
    assert jobs.recompute_provisional_deadlines(context) == {"recomputed": 0}


def test_every_job_twice_in_a_row_does_nothing_the_second_time(scene, context, clock):
    clock.set("2027-12-02T10:00:00+08:00")
    first = {name: jobs.run_job(name, context) for name in jobs.JOBS}
    second = {name: jobs.run_job(name, context) for name in jobs.JOBS}
    assert sum(sum(r.counts.values()) for r in first.values()) > 0
    assert all(set(r.counts.values()) <= {0} for r in second.values()), second
    assert {r.outcome for r in (*first.values(), *second.values())} == {"ok"}


def _crash_after(monkeypatch, name: str, calls: int):
    original = getattr(jobs, name)
    seen = {"n": 0}

    def flaky(*args, **kwargs):
        seen["n"] += 1
        if seen["n"] > calls:
            raise RuntimeError("the process was killed")
        return original(*args, **kwargs)

    monkeypatch.setattr(jobs, name, flaky)
    return lambda: monkeypatch.setattr(jobs, name, original)


def test_a_verification_run_killed_halfway_and_rerun_opens_each_task_once(
        scene, context, clock, session_factory, monkeypatch):
    clock.set("2027-12-02T10:00:00+08:00")
    restore = _crash_after(monkeypatch, "_open_verification_one", 3)
    with pytest.raises(RuntimeError):
        jobs.run_job("open_verification_tasks", context)
    assert count(session_factory, CorrectionTask, CorrectionTask.source == "yearly_verification") == 2  # one batch
    restore()
    rerun = jobs.run_job("open_verification_tasks", context)
    assert rerun.counts == {"opened": 3}
    with session_factory() as s:
        per_entry = s.execute(select(CorrectionTask.entry_id, func.count())
                              .where(CorrectionTask.source == "yearly_verification")
                              .group_by(CorrectionTask.entry_id)).all()
        runs = s.execute(select(JobRun.outcome, JobRun.error).order_by(JobRun.id)).all()
    assert len(per_entry) == 5 and {n for _, n in per_entry} == {1}
    assert [o for o, _ in runs] == ["failed", "ok"] and "killed" in runs[0][1]


def test_a_reminder_run_killed_halfway_and_rerun_reminds_each_task_once(
        scene, context, clock, session_factory, monkeypatch):
    clock.set("2026-11-06T08:00:00+08:00")
    restore = _crash_after(monkeypatch, "_remind_one", 3)
    with pytest.raises(RuntimeError):
        jobs.run_job("remind_due_soon", context)
    restore()
    assert jobs.run_job("remind_due_soon", context).counts == {"reminded": 3}
    with session_factory() as s:
        kinds = s.execute(select(TaskReminder.task_id, func.count()).group_by(TaskReminder.task_id)).all()
    assert len(kinds) == 5 and {n for _, n in kinds} == {1}


def test_an_overdue_run_killed_halfway_and_rerun_marks_each_task_once(
        scene, context, clock, session_factory, monkeypatch):
    clock.set("2026-11-10T09:00:00+08:00")
    restore = _crash_after(monkeypatch, "_mark_overdue_one", 1)
    with pytest.raises(RuntimeError):
        jobs.run_job("mark_overdue", context)
    assert count(session_factory, TaskReminder) == 0  # the first batch of two did not finish
    restore()
    assert jobs.run_job("mark_overdue", context).counts == {"marked": 5}
    assert count(session_factory, TaskReminder, TaskReminder.kind == "overdue") == 5


def test_the_database_refuses_a_second_reminder_of_the_same_kind(scene, session_factory, clock):
    from sqlalchemy.exc import IntegrityError

    task_id = scene["feedback"][0].id
    with session_factory() as s:
        s.add(TaskReminder(task_id=task_id, kind="due_soon", due_at=clock(), created_at=clock()))
        s.flush()
        s.add(TaskReminder(task_id=task_id, kind="due_soon", due_at=clock(), created_at=clock()))
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_a_new_scheduler_closes_the_runs_its_predecessor_left_running(scene, context, session_factory, clock):
    with session_factory() as s:
        s.add(JobRun(job="mark_overdue", trigger="scheduler", holder="old-host:1", started_at=clock(),
                     outcome="running", counts={}))
        s.add(JobRun(job="mark_overdue", trigger="command", holder="admin:2", started_at=clock(),
                     outcome="running", counts={}))
        s.commit()
    assert jobs.mark_interrupted(context, "new-host:3") == 1
    with session_factory() as s:
        outcomes = s.execute(select(JobRun.holder, JobRun.outcome).order_by(JobRun.id)).all()
    assert outcomes == [("old-host:1", "failed"), ("admin:2", "running")]
    assert jobs.recent_runs(context.uow_factory(), limit=1)[0].holder == "admin:2"


def _expiry_tasks(session_factory):
    with session_factory() as s:
        return list(s.scalars(select(CorrectionTask).where(CorrectionTask.source == "expiry")
                              .order_by(CorrectionTask.id)))


def test_an_entry_about_to_expire_opens_one_task_for_its_unit_the_configured_working_days_ahead(
        scene, context, clock, session_factory, world):
    # The notice is in effect until Fri Nov 20; ten working days ahead is Fri Nov 6 (Nov 9–13, 16–20).
    clock.set("2026-11-05T10:00:00+08:00")
    assert jobs.open_expiry_tasks(context) == {"opened": 0}
    clock.set("2026-11-06T10:00:00+08:00")
    assert jobs.open_expiry_tasks(context) == {"opened": 1}
    assert jobs.open_expiry_tasks(context) == {"opened": 0}
    [task] = _expiry_tasks(session_factory)
    assert (task.entry_id, task.unit_id, task.state) == (scene["notice"], scene["maint_a"].unit_id, "open")
    assert tasks._local(task.due_at).isoformat() == "2026-11-20T23:59:59+08:00"  # by its last day in effect
    assert "2026-11-20" in task.detail

    # The unit extends it by a modification: the task is resolved on publication, on time.
    cr = changes.create(world.uow(), scene["maint_a"], kind="modify", entry_id=scene["notice"], base_number=1,
                        proposal=Proposal(expires_on=date(2027, 2, 26)), now=clock())
    world.carry_through(cr, scene["rev_a"], scene["office"])
    [task] = _expiry_tasks(session_factory)
    assert (task.state, task.on_time) == ("resolved", True)
    clock.set("2026-11-20T10:00:00+08:00")
    assert jobs.open_expiry_tasks(context) == {"opened": 0}  # the new date is far off
    clock.set("2027-02-12T10:00:00+08:00")
    assert jobs.open_expiry_tasks(context) == {"opened": 1}  # once for the new date
    assert len(_expiry_tasks(session_factory)) == 2


def test_the_expiry_notice_is_a_setting_and_a_scheduler_that_was_down_catches_up(
        scene, context, clock, session_factory):
    from kb.deadlines import DeadlineRules

    context.settings = tasks.CorrectionSettings(rules=DeadlineRules.from_mapping({"expiry": 15}))
    clock.set("2026-11-02T10:00:00+08:00")  # 14 working days before Nov 20
    assert jobs.open_expiry_tasks(context) == {"opened": 1}
    context.settings = tasks.DEFAULT_SETTINGS
    [task] = _expiry_tasks(session_factory)
    assert tasks._local(task.due_at).isoformat() == "2026-11-20T23:59:59+08:00"


def test_an_entry_found_late_still_gets_its_task_due_by_its_last_day(scene, context, clock, session_factory):
    clock.set("2026-11-19T10:00:00+08:00")  # the scheduler was down until the day before the last day
    assert jobs.open_expiry_tasks(context) == {"opened": 1}
    [task] = _expiry_tasks(session_factory)
    assert tasks._local(task.due_at).isoformat() == "2026-11-20T23:59:59+08:00"
    clock.set("2026-11-21T10:00:00+08:00")  # expired: nothing left to warn of
    assert jobs.open_expiry_tasks(context) == {"opened": 0}
