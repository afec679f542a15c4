"""Closing a month: its counts frozen, so a closed month reads the same forever after.

Counts are already read from recorded facts (kb.compliance.counts), but some
facts are refined later: a provisional deadline is recounted when the
calendar learns next year's holidays, an entry's unit may change. A closed
month is what the office and the units agreed on, so its counts are kept as
they were when it closed. Only an explicit office recompute rewrites them;
every changed unit is written to the audit log with its counts before and
after, and subscribers hear of it (``score.changed``).

The close runs as a scheduled job on the first days of each month (and as
``kb close-month``); it is idempotent: a month, unit and set of deadline
rules already frozen is left alone, and ``period.closed`` is announced only
by the run that froze the month.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.access import Actor, require_role
from kb.calendar import SHANGHAI, to_shanghai
from kb.compliance.counts import as_of_for, compliance_for, deadline_rules
from kb.compliance.records import Period, UnitCompliance
from kb.db import UnitOfWork
from kb.deadlines import DEFAULT_RULES, DeadlineRules
from kb.errors import PermissionDenied, InvalidTransition, NotFound, ValidationFailed
from kb.models import ComplianceSnapshot, Role, Unit

__all__ = [
    "ClosedMonthSnapshot",
    "ComplianceReport",
    "close_month",
    "closed_months",
    "compliance_report",
    "last_ended_month",
    "recompute_month",
    "rules_key",
]


@dataclass(frozen=True)
class ComplianceReport:
    """The counts of a period for some units, and whether they come from a closed month."""

    period: Period
    as_of: datetime
    units: tuple[UnitCompliance, ...]
    frozen_at: datetime | None = None  # when the month was closed; None: read live

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def provisional(self) -> bool:
        """The period had not ended at ``as_of``: counts (and scores) can still change."""
        return self.as_of < datetime.combine(self.period.end, time(23, 59, 59), tzinfo=self.as_of.tzinfo)


def rules_key(rules: DeadlineRules) -> str:
    """A stable name for a set of deadline rules (snapshots are kept per set)."""
    canonical = json.dumps({"working_days": {str(k): v for k, v in sorted(rules.working_days.items())},
                            "emergency_hours": rules.emergency_hours}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


def last_ended_month(now: datetime) -> Period:
    """The month before the one ``now`` falls in (Asia/Shanghai)."""
    first_of_this_month = to_shanghai(now).date().replace(day=1)
    previous = first_of_this_month - timedelta(days=1)
    return Period.parse(f"{previous.year:04d}-{previous.month:02d}")


def _require_month(period: Period) -> None:
    if len(period.months()) != 1 or period.label != period.months()[0]:
        raise InvalidTransition("只有自然月可以结账", code="not_a_month", details={"period": period.label})


def _snapshots(session: Session, period: Period, key: str, *, for_update: bool = False) -> dict[int, ComplianceSnapshot]:
    query = select(ComplianceSnapshot).where(ComplianceSnapshot.period_label == period.label,
                                             ComplianceSnapshot.rules_key == key)
    if for_update:
        query = query.with_for_update()
    return {row.unit_id: row for row in session.scalars(query)}


def compliance_report(uow: UnitOfWork, actor: Actor, period: Period, *, now: datetime, unit_codes: Iterable[str] | None = None,
                      deadlines: Mapping[str, int] | None = None) -> ComplianceReport:
    """The use case behind the pull API: frozen counts for a closed month, live counts otherwise.

    Units created after the month closed have no frozen row; theirs are read live.
    """
    require_role(actor, Role.SCORER, Role.OFFICE_ADMIN, Role.MAINTAINER, Role.UNIT_REVIEWER)
    today = to_shanghai(now).date()
    if period.start > today:
        raise ValidationFailed(
            {"period": f"期间 {period.label} 自 {period.start} 开始，晚于今天 {today}"},
            f"期间 {period.label} 尚未开始，没有可统计的数据")
    try:
        rules = deadline_rules(deadlines)
    except ValueError as exc:
        raise ValidationFailed({"task_deadlines": str(exc)}, "考核方案的办理时限设置有误") from None
    with uow:
        s = uow.session
        if actor.role.belongs_to_unit:  # a unit reads its own standing, never another unit's
            own = s.execute(select(Unit.code).where(Unit.id == actor.unit_id)).scalar_one()
            if unit_codes and set(unit_codes) != {own}:
                raise PermissionDenied("只能查看本单位的考核数据（谁提供谁负责）")
            unit_codes = [own]
        live = compliance_for(s, period, now=now, unit_codes=unit_codes, rules=rules)
        frozen = _snapshots(s, period, rules_key(rules))
        if not frozen:
            return ComplianceReport(period, as_of_for(period, now), tuple(live))
        ids = dict(s.execute(select(Unit.code, Unit.id)).all())
        units = tuple(UnitCompliance.from_dict(frozen[ids[r.unit_code]].counts) if ids[r.unit_code] in frozen else r
                      for r in live)
        frozen_at = min(row.frozen_at for row in frozen.values())
        return ComplianceReport(period, as_of_for(period, now), units, frozen_at=to_shanghai(frozen_at))


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosedMonthSnapshot:
    """A closed month: how many units' counts were frozen, when, and when the office last recounted it."""

    period: str  # its label, "2026-10"
    units: int
    frozen_at: datetime
    recomputed_at: datetime | None


def closed_months(uow: UnitOfWork, actor: Actor) -> list[ClosedMonthSnapshot]:
    """The months closed so far, newest first, under the service's own rules."""
    require_role(actor, Role.SCORER, Role.OFFICE_ADMIN)
    with uow:
        rows = uow.session.execute(
            select(ComplianceSnapshot.period_label, func.count(func.distinct(ComplianceSnapshot.unit_id)),
                   func.min(ComplianceSnapshot.frozen_at), func.max(ComplianceSnapshot.recomputed_at))
            .group_by(ComplianceSnapshot.period_label).order_by(ComplianceSnapshot.period_label.desc())).all()
        return [ClosedMonthSnapshot(period=label, units=units, frozen_at=frozen_at, recomputed_at=recomputed_at)
                for label, units, frozen_at, recomputed_at in rows]


def close_month(uow: UnitOfWork, period: Period, *, now: datetime, actor: Actor | None = None,
                rule_sets: Sequence[DeadlineRules] = (DEFAULT_RULES,)) -> dict:
    """Freeze ``period``'s counts for every unit under each rule set; announce ``period.closed`` once.

    The first rule set is the service's own; its counts go out with the
    announcement. ``actor`` is None for the scheduler; a person must be the office.
    """
    if actor is not None:
        require_role(actor, Role.OFFICE_ADMIN)
    from kb.services import webhooks  # the delivery queue; imported here to keep kb.compliance light

    _require_month(period)
    if to_shanghai(now) <= datetime.combine(period.end, time(23, 59, 59), tzinfo=SHANGHAI):
        raise InvalidTransition(f"{period.label} 尚未结束，不能结账", code="period_not_ended",
                                details={"period": period.label})
    with uow:
        s = uow.session
        unit_ids = dict(s.execute(select(Unit.code, Unit.id)).all())
        frozen_units: dict[str, int] = {}
        announced: list[UnitCompliance] = []
        for index, rules in enumerate(_distinct(rule_sets)):
            key = rules_key(rules)
            existing = _snapshots(s, period, key)
            if set(unit_ids.values()) <= set(existing):
                frozen_units[key] = 0
                continue  # closed already: the hourly rerun costs one query
            records = compliance_for(s, period, now=now, rules=rules)
            added = 0
            for record in records:
                unit_id = unit_ids[record.unit_code]
                if unit_id in existing:
                    continue
                s.add(ComplianceSnapshot(period_label=period.label, period_start=period.start,
                                         period_end=period.end, unit_id=unit_id, rules_key=key,
                                         counts=record.to_dict(), frozen_at=now))
                added += 1
                if index == 0:
                    announced.append(record)
            frozen_units[key] = added
        s.flush()
        deliveries = []
        if announced:
            deliveries = webhooks.enqueue(s, "period.closed", {
                "period": period.to_dict(), "as_of": as_of_for(period, now).isoformat(),
                "units": [r.to_dict() for r in announced]}, now)
        uow.commit()
        return {"period": period.label, "frozen": sum(frozen_units.values()), "announced": bool(announced),
                "deliveries": len(deliveries)}


def recompute_month(uow: UnitOfWork, actor: Actor, period: Period, *, now: datetime,
                    rule_sets: Sequence[DeadlineRules] = (DEFAULT_RULES,),
                    score_change: Callable[[Sequence[UnitCompliance], Sequence[UnitCompliance]], dict | None]
                    | None = None) -> dict:
    """The office recounts a closed month. Changed units are audited and ``score.changed`` is announced.

    ``score_change(before, after)`` (the scoring layer's) turns the changed
    units of the first rule set into the announcement's data, or None when
    no score moved; without it the counts before and after are announced.
    """
    from kb.services import audit, webhooks

    require_role(actor, Role.OFFICE_ADMIN)
    _require_month(period)
    with uow:
        s = uow.session
        codes = {unit_id: code for code, unit_id in s.execute(select(Unit.code, Unit.id))}
        changed_units: set[str] = set()
        before_first: list[UnitCompliance] = []
        after_first: list[UnitCompliance] = []
        for index, rules in enumerate(_distinct(rule_sets)):
            rows = _snapshots(s, period, rules_key(rules), for_update=True)
            if not rows:
                if index == 0:
                    raise NotFound(f"{period.label} 尚未结账，没有可重算的快照", code="snapshot_not_found",
                                   details={"period": period.label})
                continue
            fresh = {r.unit_code: r for r in compliance_for(s, period, now=now, unit_codes=[
                codes[unit_id] for unit_id in rows], rules=rules)}
            for unit_id, row in sorted(rows.items()):
                record = fresh[codes[unit_id]]
                before = UnitCompliance.from_dict(row.counts)
                if _comparable(before) == _comparable(record):
                    continue
                changed_units.add(record.unit_code)
                audit.record(s, actor, "compliance.recompute", "compliance_snapshot", row.id,
                             row.counts, record.to_dict(), now)
                row.counts, row.recomputed_at, row.recomputed_by_id = record.to_dict(), now, actor.user_id
                if index == 0:
                    before_first.append(before)
                    after_first.append(record)
        s.flush()
        deliveries = []
        if after_first:
            data = (score_change(before_first, after_first) if score_change is not None
                    else {"before": [r.to_dict() for r in before_first], "after": [r.to_dict() for r in after_first]})
            if data:
                data = {"period": period.to_dict(), **data}
                deliveries = webhooks.enqueue(s, "score.changed", data, now)
        uow.commit()
        return {"period": period.label, "changed_units": sorted(changed_units), "deliveries": len(deliveries)}


def _distinct(rule_sets: Sequence[DeadlineRules]) -> list[DeadlineRules]:
    """The rule sets without repeats, in order (the first stays first)."""
    seen: dict[str, DeadlineRules] = {}
    for rules in rule_sets:
        seen.setdefault(rules_key(rules), rules)
    return list(seen.values())


def _comparable(record: UnitCompliance) -> dict:
    """The counts without the moment they were taken."""
    data = record.to_dict()
    data.pop("as_of", None)
    return data

