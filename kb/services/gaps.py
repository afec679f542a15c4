"""The knowledge-gap report, and gap tasks (缺漏) the office opens from it.

Searches operators typed that found nothing, or whose results nobody used,
grouped by their normalized form (``query_key``). From a row the office opens
a correction task with no entry for the unit that should write the missing
knowledge: office feedback, reason ``incomplete`` (内容不完整), the usual five
working days. The task's detail quotes the row's figures; an audit event
(``search_gap.task``) ties the task to the row's key, so the report shows
which rows already have a task and a second open task for the same row and
unit is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.calendar import to_shanghai
from kb.db import UnitOfWork
from kb.deadlines import FeedbackReason, TaskSource
from kb.errors import Conflict, NotFound, ValidationFailed
from kb.models import AuditEvent, CorrectionTask, Role, Unit
from kb.models.search import KnowledgeUsage, SearchLog
from kb.models.tasks import OPEN_STATES
from kb.search.analyzer import normalize
from kb.services import audit, tasks
from kb.services.calendar_store import load_calendar

ABANDONED_AFTER = timedelta(minutes=10)
GAP_TASK_ACTION = "search_gap.task"


@dataclass(frozen=True, slots=True, kw_only=True)
class GapTaskSnapshot:
    """A gap task opened from a row of the report: its id, its unit and its state now."""

    id: int
    unit_code: str
    state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GapSnapshot:
    """A row of the gap report: one normalized query, how often it found nothing or was not used, and the
    gap tasks already opened from it."""

    query_key: str
    query: str
    searches: int
    zero_results: int
    abandoned: int
    last_searched_at: datetime
    tasks: tuple[GapTaskSnapshot, ...] = ()


def _gap_rows(session: Session, *, since: datetime, now: datetime, query_key: str | None = None,
              limit: int = 50) -> list[GapSnapshot]:
    used = select(KnowledgeUsage.search_key).where(KnowledgeUsage.search_key.is_not(None))
    zero = case((SearchLog.result_count == 0, 1), else_=0)
    abandoned = case((and_(SearchLog.result_count > 0, SearchLog.searched_at < now - ABANDONED_AFTER,
                           SearchLog.search_key.not_in(used)), 1), else_=0)
    query = (select(SearchLog.query_key, func.min(SearchLog.query), func.count(), func.sum(zero),
                    func.sum(abandoned), func.max(SearchLog.searched_at))
             .where(SearchLog.searched_at >= since, SearchLog.mode != "ticket"))
    if query_key is not None:
        query = query.where(SearchLog.query_key == query_key)
    rows = session.execute(
        query.group_by(SearchLog.query_key)
        .having(func.sum(zero) + func.sum(abandoned) > 0)
        .order_by((func.sum(zero) + func.sum(abandoned)).desc(), func.max(SearchLog.searched_at).desc())
        .limit(limit)).all()
    return [GapSnapshot(query_key=r[0], query=r[1], searches=r[2], zero_results=int(r[3] or 0),
                        abandoned=int(r[4] or 0), last_searched_at=r[5]) for r in rows]


def _gap_tasks(session: Session) -> dict[str, list[tuple[int, str, str]]]:
    """query_key -> [(task id, unit code, state)] of the tasks opened from gap rows."""
    rows = session.execute(
        select(AuditEvent.after, CorrectionTask.id, Unit.code, CorrectionTask.state)
        .join(CorrectionTask, CorrectionTask.id == AuditEvent.object_id)
        .join(Unit, Unit.id == CorrectionTask.unit_id)
        .where(AuditEvent.action == GAP_TASK_ACTION, AuditEvent.object_type == "correction_task")
        .order_by(AuditEvent.id)).all()
    found: dict[str, list[tuple[int, str, str]]] = {}
    for after, task_id, unit_code, state in rows:
        found.setdefault((after or {}).get("query_key", ""), []).append((task_id, unit_code, state))
    return found


def knowledge_gaps(uow: UnitOfWork, actor: Actor, *, since: datetime, now: datetime,
                   limit: int = 50) -> list[GapSnapshot]:
    """Queries that found nothing, or whose results nobody used: what the knowledge base lacks.

    Typed queries only: ticket recommendations are left out, since every ticket is a row of its own
    (its logged keywords are nearly unique) and would bury what operators typed and did not find.
    Each row lists the gap tasks already opened from it.
    """
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        rows = _gap_rows(uow.session, since=since, now=now, limit=limit)
        opened = _gap_tasks(uow.session)
        return [replace(row, tasks=tuple(GapTaskSnapshot(id=i, unit_code=u, state=st)
                                         for i, u, st in opened.get(row.query_key, ())))
                for row in rows]


def open_gap_task(uow: UnitOfWork, actor: Actor, *, query_key: str, unit_code: str, detail: str | None, since: datetime,
                  now: datetime, settings: tasks.CorrectionSettings = tasks.DEFAULT_SETTINGS) -> tasks.TaskSnapshot:
    """The office opens a gap task (缺漏, no entry) for a unit from a row of the gap report."""
    require_role(actor, Role.OFFICE_ADMIN)
    query_key = normalize(query_key or "").strip()[:200]
    if not query_key:
        raise ValidationFailed({"query_key": "须给出知识缺口报告中的 query_key"})
    with uow:
        s = uow.session
        rows = _gap_rows(s, since=since, now=now, query_key=query_key, limit=1)
        if not rows:
            raise NotFound(f"检索“{query_key}”不在这段时间的知识缺口报告中", code="gap_not_found")
        gap = rows[0]
        unit_id = s.scalar(select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            raise ValidationFailed({"unit_code": f"单位 {unit_code} 不存在"})
        for task_id, code, state in _gap_tasks(s).get(query_key, []):
            if code == unit_code and state in OPEN_STATES:
                raise Conflict(f"已为该知识缺口向 {unit_code} 开出任务 {task_id}，尚未办结", code="gap_task_exists")
        figures = (f"知识缺口：话务员检索“{gap.query}”{gap.searches} 次，其中 {gap.zero_results} 次无结果，"
                   f"{gap.abandoned} 次有结果但无人使用（最近一次 {to_shanghai(gap.last_searched_at):%Y-%m-%d %H:%M}）。请补充相应知识。")
        text = f"{detail.strip()}\n\n{figures}" if detail and detail.strip() else figures
        task = tasks.open_task(s, unit_id=unit_id, source=TaskSource.OFFICE_FEEDBACK,
                               reason=FeedbackReason.INCOMPLETE.value, detail=text, received_at=now, now=now,
                               calendar=load_calendar(s), settings=settings, actor=actor)
        audit.record(s, actor, GAP_TASK_ACTION, "correction_task", task.id, None,
                     {"query_key": query_key, "query": gap.query, "unit_code": unit_code,
                      "searches": gap.searches, "zero_results": gap.zero_results,
                      "abandoned": gap.abandoned}, now)
        s.flush()
        s.expire(task, ["events"])
        snapshot = tasks.TaskSnapshot.of(task, now, events=True)
        uow.commit()
        return snapshot
