"""Oversight that reaches people (Licheng Art. 13–15, 附件3).

Supervision notices (督办通知): the office issues a numbered notice for an overdue task (督（2026）7号,
counted per year); the unit confirms receipt with a word on the outcome.

Reminders: a task opened for a unit, due within one working day, overdue; a change returned or
published; a notice issued. The notifier reads what happened from the audit log and the task
reminders past its cursor (each row once, in the transaction that moves the cursor), queues one
message per recipient and channel, and the scheduler sends them (kb.notify): retried with backoff,
never again once sent, visible to the office and replayable.

Use cases return frozen snapshots (:class:`NoticeSnapshot`, :class:`NotificationSnapshot`,
:class:`RobotSnapshot`, …); the labels are the dump schemas' (service/schemas/oversight.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.access import Actor, require_role, require_unit_scope
from kb.calendar import end_of_day, to_shanghai
from kb.db import UnitOfWork, UowFactory
from kb.deadlines import TASK_SOURCE_TITLES
from kb.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from kb.models import (
    AuditEvent, ChangeRequest, Channel, CorrectionTask, KnowledgeVersion, Notification, NotificationCursor, Role,
    SupervisionNotice, TaskReminder, TaskState, Unit, UnitRobot, User, UserContact)
from kb.sealing import SecretBox, SecretUnreadable
from kb.services import audit, tasks

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------- notices


def _number(year: int, sequence: int) -> str:
    return f"督（{year}）{sequence}号"


def notice_number(notice: SupervisionNotice) -> str:
    """The notice's official number: 督（2026）7号."""
    return _number(notice.year, notice.number)


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeSnapshot:
    """A supervision notice as issued (its content is fixed then) and where it stands."""

    id: int
    year: int
    sequence: int  # counted per year
    task_id: int
    unit_code: str
    unit_name: str
    item: str  # 督办事项
    detail: str  # 督办内容
    working_days: int | None  # 督办时限
    received_at: str  # the task's, RFC 3339 at +08:00, as the notice was issued with it
    due_at: str
    entry_id: int | None
    answer_by: str  # the end of the notice's own limit, RFC 3339 at +08:00
    issued_at: datetime
    confirmed_at: datetime | None
    reply: str | None
    task_state: str  # a TaskState value
    outcome: str  # kb.services.tasks.outcome() when confirmed (or issued): "open_overdue", "resolved_late", …

    @property
    def number(self) -> str:
        """The notice's official number: 督（2026）7号."""
        return _number(self.year, self.sequence)

    @classmethod
    def of(cls, notice: SupervisionNotice) -> NoticeSnapshot:
        content = notice.content
        return cls(id=notice.id, year=notice.year, sequence=notice.number, task_id=notice.task_id,
                   unit_code=notice.unit.code, unit_name=notice.unit.name, item=content["item"],
                   detail=content["detail"], working_days=content["working_days"],
                   received_at=content["received_at"], due_at=content["due_at"], entry_id=content["entry_id"],
                   answer_by=content["answer_by"], issued_at=notice.issued_at, confirmed_at=notice.confirmed_at,
                   reply=notice.reply, task_state=notice.task.state,
                   outcome=tasks.outcome(notice.task, notice.confirmed_at or notice.issued_at))


def issue_notice(uow: UnitOfWork, actor: Actor, task_id: int, *, now: datetime) -> NoticeSnapshot:
    """The office's numbered notice for an overdue task; one per task."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        task = s.scalar(select(CorrectionTask).where(CorrectionTask.id == task_id).with_for_update())
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在", code="task_not_found")
        if task.overdue_marked_at is None and not (task.state in tasks.OPEN_STATES and task.due_at < now):
            raise InvalidTransition("只有超期的任务才能下达督办通知", code="task_not_overdue")
        if s.scalar(select(SupervisionNotice.id).where(SupervisionNotice.task_id == task.id)):
            raise Conflict(f"任务 {task_id} 已下达督办通知", code="notice_exists")
        year = to_shanghai(now).year
        number = (s.scalar(select(func.max(SupervisionNotice.number)).where(SupervisionNotice.year == year)) or 0) + 1
        question = s.scalar(select(KnowledgeVersion.question).where(KnowledgeVersion.entry_id == task.entry_id)
                            .order_by(KnowledgeVersion.number.desc()).limit(1)) if task.entry_id else None
        item = TASK_SOURCE_TITLES[task.source] + (f"：{question}" if question else "")
        content = {"item": item, "detail": task.detail, "working_days": task.working_days,
                   "received_at": to_shanghai(task.received_at).isoformat(),
                   "due_at": to_shanghai(task.due_at).isoformat(), "entry_id": task.entry_id,
                   # A notice gives its own limit: the unit answers within as many working days again.
                   "answer_by": end_of_day(_working_days_after(s, now, task.working_days or 5)).isoformat()}
        notice = SupervisionNotice(year=year, number=number, task_id=task.id, unit_id=task.unit_id, content=content,
                                   issued_at=now, issued_by_id=actor.user_id)
        s.add(notice)
        try:
            s.flush()
        except IntegrityError:  # another office user took this number at the same moment
            raise Conflict("督办通知编号冲突，请重试", code="notice_number_taken") from None
        audit.record(s, actor, "notice.issue", "supervision_notice", notice.id, None,
                     {"number": notice_number(notice), "task_id": task.id, "unit_id": task.unit_id}, now)
        view = NoticeSnapshot.of(notice)
        uow.commit()
        return view


def _working_days_after(session: Session, now: datetime, days: int) -> date:
    calendar = tasks.load_calendar(session)
    day = to_shanghai(now).date()
    for _ in range(days):
        day = calendar.next_working_day(day)
    return day


def _load_notice(session: Session, actor: Actor, notice_id: int, *, for_update: bool = False) -> SupervisionNotice:
    query = select(SupervisionNotice).where(SupervisionNotice.id == notice_id)
    notice = session.scalar(query.with_for_update() if for_update else query)
    if notice is None:
        raise NotFound(f"督办通知 {notice_id} 不存在", code="notice_not_found")
    require_unit_scope(actor, notice.unit_id)
    return notice


def get_notice(uow: UnitOfWork, actor: Actor, notice_id: int) -> NoticeSnapshot:
    require_role(actor, Role.OFFICE_ADMIN, Role.MAINTAINER, Role.UNIT_REVIEWER)
    with uow:
        return NoticeSnapshot.of(_load_notice(uow.session, actor, notice_id))


def list_notices(uow: UnitOfWork, actor: Actor, *, year: int | None = None,
                 unconfirmed: bool = False) -> list[NoticeSnapshot]:
    """The office sees every notice, a unit its own."""
    require_role(actor, Role.OFFICE_ADMIN, Role.MAINTAINER, Role.UNIT_REVIEWER)
    with uow:
        query = select(SupervisionNotice).order_by(SupervisionNotice.year.desc(), SupervisionNotice.number.desc())
        if not actor.is_office:
            query = query.where(SupervisionNotice.unit_id == actor.unit_id)
        if year:
            query = query.where(SupervisionNotice.year == year)
        if unconfirmed:
            query = query.where(SupervisionNotice.confirmed_at.is_(None))
        return [NoticeSnapshot.of(n) for n in uow.session.scalars(query.limit(500))]


def confirm_notice(uow: UnitOfWork, actor: Actor, notice_id: int, *, reply: str | None,
                   now: datetime) -> NoticeSnapshot:
    """The unit confirms it received the notice, with a word on what it did; once."""
    require_role(actor, Role.MAINTAINER, Role.UNIT_REVIEWER)
    with uow:
        s = uow.session
        notice = _load_notice(s, actor, notice_id, for_update=True)
        if notice.confirmed_at is not None:
            raise InvalidTransition("该督办通知已确认签收", code="notice_confirmed")
        notice.confirmed_at, notice.confirmed_by_id = now, actor.user_id
        notice.reply = (reply or "").strip()[:2000] or None
        audit.record(s, actor, "notice.confirm", "supervision_notice", notice.id, None,
                     {"reply": notice.reply}, now)
        s.flush()
        view = NoticeSnapshot.of(notice)
        uow.commit()
        return view


# ------------------------------------------------------------------------------------------- preferences


@dataclass(frozen=True, slots=True, kw_only=True)
class RobotSnapshot:
    """A unit's group robot; never its secret, only whether it has one."""

    unit_code: str
    channel: str | None  # a Channel value (wecom, dingtalk); None: the unit has no robot
    url: str | None
    signed: bool  # has a signing secret (钉钉加签)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactSnapshot:
    """A user's own e-mail address and how it wants reminders."""

    email: str | None
    notify: bool
    daily_digest: bool


def set_unit_robot(uow: UnitOfWork, actor: Actor, unit_code: str, *, channel: str | None, url: str | None,
                   secret: str | None, now: datetime, secret_box: SecretBox) -> RobotSnapshot | None:
    """The office sets (or, with no channel, removes) a unit's group robot; its secret is stored sealed."""
    require_role(actor, Role.OFFICE_ADMIN)
    if channel and channel not in (Channel.WECOM.value, Channel.DINGTALK.value):
        raise ValidationFailed({"channel": "群机器人只能是 wecom（企业微信）或 dingtalk（钉钉）"})
    if channel and not (url or "").startswith(("https://", "http://")):
        raise ValidationFailed({"url": "机器人地址应以 https:// 开头"})
    with uow:
        s = uow.session
        unit = s.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise NotFound(f"单位 {unit_code} 不存在", code="unit_not_found")
        robot = s.scalar(select(UnitRobot).where(UnitRobot.unit_id == unit.id))
        view: RobotSnapshot | None
        if not channel:
            if robot is not None:
                s.delete(robot)
            view = None
        else:
            robot = robot or UnitRobot(unit_id=unit.id)
            secret = (secret or "").strip() or None
            robot.channel, robot.url = channel, (url or "").strip()
            robot.sealed_secret = secret_box.seal(secret) if secret else None
            s.add(robot)
            view = RobotSnapshot(unit_code=unit.code, channel=channel, url=robot.url, signed=bool(secret))
        audit.record(s, actor, "unit.robot", "unit", unit.id, None,
                     {"channel": channel, "url": url, "signed": bool(secret)}, now)
        uow.commit()
        return view


def unit_robots(uow: UnitOfWork, actor: Actor) -> dict[str, RobotSnapshot]:
    """Every unit's group robot, by unit code (the secret itself is never shown)."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        rows = uow.session.execute(select(Unit.code, UnitRobot.channel, UnitRobot.url,
                                          UnitRobot.sealed_secret.is_not(None))
                                   .join(UnitRobot, UnitRobot.unit_id == Unit.id)).all()
        return {code: RobotSnapshot(unit_code=code, channel=channel, url=url, signed=signed)
                for code, channel, url, signed in rows}


def robot_secrets(uow: UnitOfWork, secret_box: SecretBox) -> dict[str, str]:
    """The robots' signing secrets by robot URL, opened, for sending; one no key opens is left out (logged),
    so its messages go unsigned and fail at the robot, where the failure is recorded and retried."""
    with uow:
        rows = uow.session.execute(select(UnitRobot.url, UnitRobot.sealed_secret)
                                   .where(UnitRobot.sealed_secret.is_not(None))).all()
    opened = {}
    for url, sealed in rows:
        if sealed is None:  # left out by the query already
            continue
        try:
            opened[url] = secret_box.open(sealed)
        except SecretUnreadable:
            log.error("the signing secret of robot %s cannot be opened with KB_SECRETS_KEY", url)
    return opened


def get_contact(uow: UnitOfWork, actor: Actor) -> ContactSnapshot:
    with uow:
        contact = uow.session.scalar(select(UserContact).where(UserContact.user_id == actor.user_id))
        if contact is None:
            return ContactSnapshot(email=None, notify=True, daily_digest=False)
        return ContactSnapshot(email=contact.email, notify=contact.notify, daily_digest=contact.daily_digest)


def set_contact(uow: UnitOfWork, actor: Actor, *, email: str | None, notify: bool, daily_digest: bool,
                now: datetime) -> ContactSnapshot:
    """A user's own e-mail address and how it wants reminders."""
    email = (email or "").strip() or None
    if email and ("@" not in email or len(email) > 200 or any(c.isspace() for c in email)):
        raise ValidationFailed({"email": "邮箱地址格式不正确"})
    with uow:
        s = uow.session
        contact = s.scalar(select(UserContact).where(UserContact.user_id == actor.user_id)) \
            or UserContact(user_id=actor.user_id)
        contact.email, contact.notify, contact.daily_digest = email, notify, daily_digest
        s.add(contact)
        audit.record(s, actor, "user.contact", "user", actor.user_id, None,
                     {"email": email, "notify": notify, "daily_digest": daily_digest}, now)
        uow.commit()
        return ContactSnapshot(email=email, notify=notify, daily_digest=daily_digest)


# ------------------------------------------------------------------------------------------- the notifier

# Audit actions that tell someone something: action → event name.
AUDIT_EVENTS = {
    "task.open": "task.opened",
    "change_request.unit_return": "change.returned",
    "change_request.office_return": "change.returned",
    "change_request.publish": "change.published",
    "change_request.publish_urgent": "change.published",
    "notice.issue": "notice.issued",
}
REMINDER_EVENTS = {"due_soon": "task.due_soon", "overdue": "task.overdue"}
RETRY_SECONDS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)
BATCH = 500


def _digest_time(now: datetime, hour: int) -> datetime:
    """The next digest send time: `hour` o'clock in Shanghai, today if still ahead, else tomorrow."""
    local = to_shanghai(now)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > local else at + timedelta(days=1)


def _recipients(session: Session, unit_id: int | None, *, only_user: int | None = None) -> list[tuple[str, str, int | None, bool]]:
    """(channel, address, user id, digest) for a unit's people who want reminders, and the unit's robot."""
    out: list[tuple[str, str, int | None, bool]] = []
    if unit_id is None:
        return out
    query = (select(User.id, UserContact.email, UserContact.daily_digest).join(UserContact, UserContact.user_id == User.id)
             .where(User.unit_id == unit_id, User.active.is_(True), UserContact.notify.is_(True),
                    UserContact.email.is_not(None)))
    if only_user is not None:
        query = query.where(User.id == only_user)
    out += [(Channel.EMAIL.value, email, user_id, digest) for user_id, email, digest in session.execute(query)
            if email is not None]  # left out by the query already
    robot = session.scalar(select(UnitRobot).where(UnitRobot.unit_id == unit_id))
    if robot is not None:
        out.append((robot.channel, robot.url, None, False))
    return out


def _message(session: Session, event: str, subject_id: int) -> tuple[int | None, int | None, str, str] | None:
    """(unit id, the one user concerned or None for the whole unit, subject, body) of an event."""
    if event.startswith("task.") or event == "notice.issued":
        task: CorrectionTask | None
        if event == "notice.issued":
            notice = session.get(SupervisionNotice, subject_id)
            if notice is None:
                return None
            task = notice.task
            head = f"【督办通知 {notice_number(notice)}】"
        else:
            task = session.get(CorrectionTask, subject_id)
            if task is None:
                return None
            head = {"task.opened": "【新任务】", "task.due_soon": "【即将到期】", "task.overdue": "【已超期】"}[event]
        if event != "task.opened" and task.state in (TaskState.RESOLVED.value, TaskState.DECLINED.value):
            return None  # done by the time the notifier ran: nobody needs telling
        subject = f"{head}{task.unit.name} 纠错任务 #{task.id}：{TASK_SOURCE_TITLES[task.source]}"
        body = (f"{subject}\n办理期限：{to_shanghai(task.due_at):%Y-%m-%d %H:%M}（{task.working_days or ''} 个工作日）\n"
                f"内容：{task.detail}\n请登录知识库控制台办理：/tasks/{task.id}")
        return task.unit_id, None, subject, body
    cr = session.get(ChangeRequest, subject_id)
    if cr is None:
        return None
    question = (cr.proposal or {}).get("question") or (f"知识 #{cr.entry_id}" if cr.entry_id else "")
    if event == "change.returned":
        subject = f"【已退回】变更申请 #{cr.id}：{question}"
        body = f"{subject}\n退回原因：{cr.last_return_reason or ''}\n请修改后重新提交：/changes/{cr.id}"
    else:
        subject = f"【已发布】变更申请 #{cr.id}：{question}"
        body = f"{subject}\n已发布为知识 #{cr.entry_id} 第 {cr.published_number} 版。"
    return cr.unit_id, cr.created_by_id, subject, body


def _queue(session: Session, key: str, event: str, subject_id: int, now: datetime, digest_hour: int) -> int:
    found = _message(session, event, subject_id)
    if found is None:
        return 0
    unit_id, user_id, subject, body = found
    queued = 0
    for channel, address, recipient, digest in _recipients(session, unit_id):
        if user_id is not None and recipient is not None and recipient != user_id:
            continue  # about one person's change: that person (and the unit's robot), not every colleague
        dedupe = f"{key}:{recipient or 'unit'}:{channel}"
        if session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe)):
            continue
        session.add(Notification(dedupe_key=dedupe, event=event, channel=channel, address=address, unit_id=unit_id,
                                 user_id=recipient, subject=subject, body=body, digest=digest, created_at=now,
                                 next_attempt_at=_digest_time(now, digest_hour) if digest else now))
        queued += 1
    return queued


def _cursor(session: Session, source: str) -> NotificationCursor:
    cursor = session.get(NotificationCursor, source, with_for_update=True)
    if cursor is None:
        cursor = NotificationCursor(source=source, last_id=0)
        session.add(cursor)
        session.flush()
    return cursor


def collect(uow: UnitOfWork, *, now: datetime, digest_hour: int = 8) -> int:
    """Queue the messages for what happened since the last run; the cursor moves in the same transaction."""
    queued = 0
    with uow:
        s = uow.session
        audit_cursor = _cursor(s, "audit")
        if audit_cursor.last_id == 0:  # first run: start from now, not from years of history
            audit_cursor.last_id = s.scalar(select(func.max(AuditEvent.id))) or 0
        rows = s.execute(select(AuditEvent.id, AuditEvent.action, AuditEvent.object_id)
                         .where(AuditEvent.id > audit_cursor.last_id, AuditEvent.action.in_(AUDIT_EVENTS))
                         .order_by(AuditEvent.id).limit(BATCH)).all()
        last_audit = s.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.id > audit_cursor.last_id))
        for event_id, action, object_id in rows:
            if object_id is None:  # every action of AUDIT_EVENTS names its object
                continue
            queued += _queue(s, f"audit:{event_id}", AUDIT_EVENTS[action], object_id, now, digest_hour)
        if rows and len(rows) == BATCH:
            audit_cursor.last_id = rows[-1][0]
        elif last_audit:
            audit_cursor.last_id = last_audit
        reminder_cursor = _cursor(s, "task_reminders")
        if reminder_cursor.last_id == 0:
            reminder_cursor.last_id = s.scalar(select(func.max(TaskReminder.id))) or 0
        reminders = s.execute(select(TaskReminder.id, TaskReminder.kind, TaskReminder.task_id)
                              .where(TaskReminder.id > reminder_cursor.last_id)
                              .order_by(TaskReminder.id).limit(BATCH)).all()
        for reminder_id, kind, task_id in reminders:
            if kind in REMINDER_EVENTS:
                queued += _queue(s, f"reminder:{reminder_id}", REMINDER_EVENTS[kind], task_id, now, digest_hour)
            reminder_cursor.last_id = reminder_id
        uow.commit()
    return queued


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationSnapshot:
    """A reminder queued for one recipient and channel, and how sending it went."""

    id: int
    event: str
    channel: str  # a Channel value
    address: str
    unit_id: int | None
    user_id: int | None
    subject: str
    digest: bool
    created_at: datetime
    next_attempt_at: datetime
    attempts: int
    sent_at: datetime | None
    gave_up_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, n: Notification) -> NotificationSnapshot:
        return cls(id=n.id, event=n.event, channel=n.channel, address=n.address, unit_id=n.unit_id,
                   user_id=n.user_id, subject=n.subject, digest=n.digest, created_at=n.created_at,
                   next_attempt_at=n.next_attempt_at, attempts=n.attempts, sent_at=n.sent_at,
                   gave_up_at=n.gave_up_at, last_error=n.last_error)


def list_notifications(uow: UnitOfWork, actor: Actor, *, waiting_only: bool = False,
                       limit: int = 100) -> list[NotificationSnapshot]:
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        query = select(Notification).order_by(Notification.id.desc()).limit(limit)
        if waiting_only:
            query = query.where(Notification.sent_at.is_(None))
        return [NotificationSnapshot.of(n) for n in uow.session.scalars(query)]


def replay(uow: UnitOfWork, actor: Actor, notification_id: int, *, now: datetime) -> NotificationSnapshot:
    """Send again: a given-up message is retried, a sent one goes out once more (the office asked for it)."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        n = s.get(Notification, notification_id, with_for_update=True)
        if n is None:
            raise NotFound(f"通知 {notification_id} 不存在", code="notification_not_found")
        n.sent_at, n.gave_up_at, n.attempts, n.next_attempt_at, n.last_error = None, None, 0, now, None
        audit.record(s, actor, "notification.replay", "notification", n.id, None, {"subject": n.subject}, now)
        s.flush()
        view = NotificationSnapshot.of(n)
        uow.commit()
        return view


def deliver_due(uow_factory: UowFactory, *, now: datetime, send: Callable[[str, str, str, str, str], object],
                limit: int = 200) -> dict[str, int]:
    """Send what is due. `send(channel, address, subject, body, key)` raises on failure.

    Each message (or a recipient's digest) is sent in its own transaction that locks its rows and
    marks them sent, so two schedulers never send the same row; a failure is retried with backoff
    and given up after the last step of RETRY_SECONDS (the office may replay it).
    """
    sent = failed = 0
    with uow_factory(write=False) as uow:
        due = uow.session.execute(
            select(Notification.id, Notification.channel, Notification.address, Notification.digest)
            .where(Notification.sent_at.is_(None), Notification.gave_up_at.is_(None),
                   Notification.next_attempt_at <= now).order_by(Notification.id).limit(limit)).all()
    groups: dict[tuple[object, ...], list[int]] = {}
    for row_id, channel, address, digest in due:
        groups.setdefault((channel, address, "digest") if digest else (row_id,), []).append(row_id)
    for ids in groups.values():
        with uow_factory() as uow:
            s = uow.session
            rows = s.scalars(select(Notification).where(Notification.id.in_(ids), Notification.sent_at.is_(None),
                                                        Notification.gave_up_at.is_(None)).with_for_update()).all()
            if not rows:
                continue
            first = rows[0]
            if len(rows) == 1 and not first.digest:
                subject, body = first.subject, first.body
            else:
                subject = f"【知识库每日提醒】{len(rows)} 条待办"
                body = "\n\n".join(f"{i}. {r.body}" for i, r in enumerate(rows, 1))
            try:
                send(first.channel, first.address, subject, body, first.dedupe_key)
            except Exception as exc:  # any channel failure: keep it for a retry, with the reason
                for r in rows:
                    r.attempts += 1
                    r.last_error = str(exc)[:500]
                    if r.attempts >= len(RETRY_SECONDS):
                        r.gave_up_at = now
                    else:
                        r.next_attempt_at = now + timedelta(seconds=RETRY_SECONDS[r.attempts - 1])
                failed += len(rows)
            else:
                for r in rows:
                    r.attempts += 1
                    r.sent_at = now
                    r.last_error = None
                sent += len(rows)
            uow.commit()
    return {"sent": sent, "failed": failed}


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingSnapshot:
    """What a unit has waiting."""

    unconfirmed_notices: int


def pending_for(uow: UnitOfWork, actor: Actor) -> PendingSnapshot:
    """What a unit has waiting: for its standing page (what is due next)."""
    require_role(actor, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    with uow:
        unconfirmed = uow.session.scalar(select(func.count()).select_from(SupervisionNotice).where(
            SupervisionNotice.unit_id == actor.unit_id, SupervisionNotice.confirmed_at.is_(None))) or 0
        return PendingSnapshot(unconfirmed_notices=unconfirmed)


# ------------------------------------------------------------------------------------------- 直办率 (Art. 11)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitDirectRateSnapshot:
    """One unit's calls where an operator recorded using an answer, and how many were answered directly."""

    unit_code: str
    unit_name: str
    calls: int
    answered_directly: int
    rate: float | None  # answered_directly / calls, to 4 places; None without calls


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectRateSnapshot:
    """直办率 (Art. 11) over a period: all units together and each unit."""

    period: str  # the period's label: 2026-11, 2026-Q4, 2026
    calls: int
    answered_directly: int
    rate: float | None
    units: tuple[UnitDirectRateSnapshot, ...]


def _rate(direct: int, calls: int) -> float | None:
    return round(direct / calls, 4) if calls else None


def direct_answer_rate(uow: UnitOfWork, actor: Actor, *, start: datetime, end: datetime,
                       label: str) -> DirectRateSnapshot:
    """Of the calls where an operator recorded using an answer, the share answered directly, per unit."""
    from sqlalchemy import case

    from kb.models import KnowledgeUsage

    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        rows = uow.session.execute(
            select(Unit.code, Unit.name, func.count(KnowledgeUsage.id),
                   func.sum(case((KnowledgeUsage.answered_directly.is_(True), 1), else_=0)))
            .join(Unit, Unit.id == KnowledgeUsage.unit_id)
            .where(KnowledgeUsage.used_at >= start, KnowledgeUsage.used_at < end)
            .group_by(Unit.code, Unit.name).order_by(Unit.code)).all()
    units = tuple(UnitDirectRateSnapshot(unit_code=code, unit_name=name, calls=count,
                                         answered_directly=int(direct or 0), rate=_rate(int(direct or 0), count))
                  for code, name, count, direct in rows)
    calls = sum(u.calls for u in units)
    answered = sum(u.answered_directly for u in units)
    return DirectRateSnapshot(period=label, calls=calls, answered_directly=answered, rate=_rate(answered, calls),
                              units=units)
