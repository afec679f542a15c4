"""Schemas of the correction loop: tasks, flags, policy documents, the calendar, verification, the inbox.

Times are dumped in Asia/Shanghai with their offset (+08:00).
"""
from __future__ import annotations

import re

from marshmallow import Schema, fields, post_dump, pre_load, validate

from kb.calendar import to_shanghai
from kb.deadlines import TASK_SOURCE_TITLES, FeedbackReason, TaskSource
from kb.models import (
    ChangeKind, FlagCause, FlagKind, FlagState, OverrideKind, PolicyStatus, ReminderKind, TaskState)
from kb.services.flags import FlagSnapshot
from kb.services.inbox import ReminderSnapshot
from kb.services.tasks import OUTCOME_LABELS, TaskSnapshot
from kb.workflow import State
from service.schemas.common import PageArgs, StrictSchema
from service.schemas.fields import DateTime, Id, Integer, Label, in_calendar_years
from service.schemas.knowledge import ContentFields

_text = validate.Length(max=20_000)
_short = validate.Length(max=2_000)


def _without_none(data: dict, *keys: str) -> dict:
    """Drops `keys` a snapshot left None: what an answer leaves out (in a list, say) rather than sends as null."""
    for key in keys:
        if data.get(key) is None:
            data.pop(key, None)
    return data


# --- tasks -------------------------------------------------------------------------------------------------------


class TaskQueryArgs(PageArgs):
    state = fields.String(validate=validate.OneOf([s.value for s in TaskState] + ["active"]),
                          metadata={"description": "状态；active = 未办结（open、in_progress、decline_requested）"})
    unit = fields.String(metadata={"description": "单位编码（热线办）"})
    source = fields.String(validate=validate.OneOf([s.value for s in TaskSource]))
    entry_id = Id()
    overdue = fields.Boolean(metadata={"description": "true：只看已超期未办结的；false：排除它们"})


class TaskCreate(StrictSchema):
    source = fields.String(required=True, validate=validate.OneOf([s.value for s in TaskSource]), metadata={
        "description": "热线办：office_feedback 反馈 / city_notice 市级通知 / emergency 突发事项；"
                       "承办单位：unit_self_found 自查发现"})
    unit_code = fields.String(load_default=None, allow_none=True,
                              metadata={"description": "承办单位；给出 entry_id 时默认为该知识的单位"})
    entry_id = Id(load_default=None, allow_none=True, metadata={"description": "所涉知识；缺漏则不填"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200), metadata={
        "description": "热线办反馈的原因：" + "、".join(f"{r.value} {r.label}" for r in FeedbackReason)
                       + "；其他来源可填简短说明"})
    detail = fields.String(required=True, validate=validate.Length(1, 20_000), metadata={"description": "错误或缺漏的内容"})
    received_at = fields.AwareDateTime(load_default=None, allow_none=True, validate=in_calendar_years,
                                       metadata={"description": "收到时间（仅热线办，默认现在）"})


class TaskEventSchema(Schema):
    kind = fields.String()
    at = DateTime()
    actor_id = Integer(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()


def task_reason_label(task: TaskSnapshot) -> str | None:
    """The office's feedback reasons are codes (内容不完整, ...); other sources' reasons are free text."""
    if task.source == TaskSource.OFFICE_FEEDBACK.value and task.reason:
        return FeedbackReason(task.reason).label
    return task.reason


class TaskSchema(Schema):
    """kb.services.tasks.TaskSnapshot, dumped; `events` only when the snapshot has them (one task read)."""

    id = Integer(dump_only=True)
    unit_code = fields.String()
    unit_name = fields.String()
    entry_id = Integer(allow_none=True)
    entry_question = fields.String(allow_none=True)
    source = fields.String()
    source_label = Label(lambda task: TASK_SOURCE_TITLES[task.source])
    reason = fields.String(allow_none=True)
    reason_label = Label(task_reason_label, allow_none=True)
    detail = fields.String()
    received_at = DateTime()
    due_at = DateTime(metadata={"description": "办理期限（北京时间，当日 23:59:59）"})
    provisional = fields.Boolean(metadata={"description": "期限含日历尚未确认的日期，日历更新后会重新计算"})
    working_days = Integer(allow_none=True)
    state = fields.String()
    state_label = Label(lambda task: TaskState(task.state).label)
    change_request_id = Integer(allow_none=True)
    change_request_state = fields.String(allow_none=True)
    policy_document_id = Integer(allow_none=True)
    cycle_starts_on = fields.Date(allow_none=True)
    cycle_ends_on = fields.Date(allow_none=True)
    decline_justification = fields.String(allow_none=True)
    decline_requested_at = DateTime(allow_none=True)
    decline_rejection = fields.String(allow_none=True)
    declined_at = DateTime(allow_none=True)
    resolved_at = DateTime(allow_none=True)
    resolved_version = Integer(allow_none=True, metadata={"description": "修正（或校核）后的知识版本"})
    on_time = fields.Boolean(allow_none=True)
    overdue_marked_at = DateTime(allow_none=True)
    outcome = fields.String(metadata={
        "description": "open / open_overdue / resolved_on_time / resolved_late / declined"})
    outcome_label = Label(lambda task: OUTCOME_LABELS[task.outcome])
    created_by = Integer(allow_none=True)
    created_at = DateTime()
    updated_at = DateTime()
    events = fields.List(fields.Nested(TaskEventSchema))

    @post_dump
    def _history_of_one_task(self, data, **kwargs):
        return _without_none(data, "events")  # a task in a list is read without its history: no key at all


class TaskLinkCreate(StrictSchema):
    change_request_id = Id(required=True)


class TaskChangeRequestCreate(StrictSchema):
    kind = fields.String(load_default=None, allow_none=True,
                         validate=validate.OneOf(["new", "modify", "delete", "revoke"]),
                         metadata={"description": "默认：有知识的任务为 modify，缺漏为 new"})
    base_version = Integer(load_default=None, allow_none=True)
    proposal = fields.Nested(ContentFields, load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True, validate=_text)


class DeclineCreate(StrictSchema):
    justification = fields.String(required=True, validate=validate.Length(1, 5_000))


class DeclineRulingCreate(StrictSchema):
    accept = fields.Boolean(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=_short)


# --- flags -------------------------------------------------------------------------------------------------------


class FlagCreate(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in FlagKind]),
                         metadata={"description": "suggestion 建议 / wrong_answer 答案错误或过时"})
    text = fields.String(required=True, validate=validate.Length(1, 5_000))


class FlagQueryArgs(PageArgs):
    state = fields.String(validate=validate.OneOf([s.value for s in FlagState]))
    entry_id = Id()


class FlagTriageCreate(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["task", "dismiss"]),
                             metadata={"description": "task 转交承办单位 / dismiss 不采纳"})
    reason = fields.String(load_default=None, allow_none=True, validate=_short,
                           metadata={"description": "不采纳时必填，提交人可见"})
    cause = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["late_policy"]),
                          metadata={"description": "答案错误的原因（仅转交答错标记时）：late_policy 新政策对接不及时"
                                                   "（桓台 3.3 按此计数）"})


def flag_fate_label(flag: FlagSnapshot) -> str:
    """What became of the flag, as the operator who raised it reads it."""
    return {
        "pending": "待热线办处理",
        "dismissed": f"未采纳：{flag.triage_reason}",
        "fixed": f"已在第 {flag.fixed_in_version} 版修正",
        "withdrawn": "该知识已下架",
        "declined": f"承办单位说明无需修改，热线办已认可：{flag.task_decline_justification}",
        "in_task": f"已转交承办单位处理（任务 {flag.task_id}）",
    }[flag.fate]


class FlagSchema(Schema):
    """kb.services.flags.FlagSnapshot, dumped."""

    id = Integer(dump_only=True)
    entry_id = Integer()
    entry_version = Integer()
    entry_question = fields.String(allow_none=True)
    unit_code = fields.String(allow_none=True)
    kind = fields.String()
    kind_label = Label(lambda flag: FlagKind(flag.kind).label)
    text = fields.String()
    raised_by = Integer()
    raised_at = DateTime()
    state = fields.String()
    state_label = Label(lambda flag: FlagState(flag.state).label)
    triaged_at = DateTime(allow_none=True)
    triage_reason = fields.String(allow_none=True)
    cause = fields.String(allow_none=True, metadata={"description": "热线办认定的错误原因：late_policy 新政策对接不及时"})
    cause_label = Label(lambda flag: FlagCause(flag.cause).label if flag.cause else None, allow_none=True)
    task_id = Integer(allow_none=True)
    task_state = fields.String(allow_none=True)
    fixed_in_version = Integer(allow_none=True)
    fate = fields.String(metadata={"description": "pending / dismissed / in_task / fixed / withdrawn / declined"})
    fate_label = Label(flag_fate_label, metadata={"description": "处理结果，如“已在第 3 版修正”"})


# --- policy documents --------------------------------------------------------------------------------------------


class PolicyQueryArgs(PageArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in PolicyStatus]))
    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "文号或标题"})
    unit = fields.String()


class PolicyCreate(StrictSchema):
    doc_number = fields.String(required=True, validate=validate.Length(1, 100),
                               metadata={"description": "文号，如 鲁政办字〔2021〕126号（[] () 【】 均可）"})
    title = fields.String(required=True, validate=validate.Length(1, 300))
    issuer = fields.String(required=True, validate=validate.Length(1, 200))
    published_on = fields.Date(required=True, validate=in_calendar_years)
    effective_on = fields.Date(load_default=None, allow_none=True, validate=in_calendar_years)
    status = fields.String(load_default=PolicyStatus.IN_FORCE.value,
                           validate=validate.OneOf([s.value for s in PolicyStatus]))
    unit_code = fields.String(load_default=None, allow_none=True,
                              metadata={"description": "主管承办单位；与施行日期一并给出时向其下达政策变化任务"})
    note = fields.String(load_default=None, allow_none=True, validate=_short)


class PolicyUpdate(StrictSchema):
    title = fields.String(validate=validate.Length(1, 300))
    issuer = fields.String(validate=validate.Length(1, 200))
    published_on = fields.Date(validate=in_calendar_years)
    effective_on = fields.Date(allow_none=True, validate=in_calendar_years)
    unit_code = fields.String(allow_none=True)
    note = fields.String(allow_none=True, validate=_short)


class PolicyStatusCreate(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in PolicyStatus]),
                           metadata={"description": "in_force 现行有效 / amended 已修订 / repealed 已废止"})
    note = fields.String(load_default=None, allow_none=True, validate=_short,
                         metadata={"description": "如：被某号文件废止"})


class PolicySchema(Schema):
    id = Integer(dump_only=True)
    doc_number = fields.String()
    title = fields.String()
    issuer = fields.String()
    published_on = fields.Date()
    effective_on = fields.Date(allow_none=True)
    status = fields.String()
    status_label = Label(lambda doc: PolicyStatus(doc.status).label)
    unit_code = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = DateTime()
    updated_at = DateTime()
    status_changed_at = DateTime()
    citing_entry_ids = fields.List(Integer(), metadata={"description": "引用此文件的已发布知识"})
    opened_task_ids = fields.List(Integer(), metadata={"description": "本次操作下达的任务"})


# --- calendar ----------------------------------------------------------------------------------------------------


class OverrideCreate(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OverrideKind]),
                         metadata={"description": "holiday 休息日 / working_day 调休上班"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class OverrideSchema(Schema):
    """kb.services.calendar_admin.OverrideSnapshot, dumped; `recomputed_task_ids` only once saved."""

    date = fields.Date(attribute="day")
    kind = fields.String()
    kind_label = Label(lambda o: OverrideKind(o.kind).label)
    note = fields.String(allow_none=True)
    set_by = Integer(allow_none=True)
    set_at = DateTime()
    recomputed_task_ids = fields.List(Integer(), metadata={"description": "期限因此改变的任务"})

    @post_dump
    def _recomputed_once_saved(self, data, **kwargs):
        return _without_none(data, "recomputed_task_ids")


class ConfirmedYearSchema(Schema):
    """kb.services.calendar_admin.ConfirmedYearSnapshot, dumped; the counts only once confirmed."""

    year = Integer()
    confirmed_at = DateTime()
    confirmed_by = Integer(allow_none=True)
    overrides = Integer()
    recomputed_task_ids = fields.List(Integer())

    @post_dump
    def _counts_once_confirmed(self, data, **kwargs):
        return _without_none(data, "overrides", "recomputed_task_ids")


class CalendarSchema(Schema):
    overrides = fields.List(fields.Nested(OverrideSchema))
    confirmed_years = fields.List(fields.Nested(ConfirmedYearSchema))


class CalendarQueryArgs(StrictSchema):
    year = Integer(validate=validate.Range(2000, 2100))


class OverrideDeletedSchema(Schema):
    date = fields.Date(attribute="day")
    recomputed_task_ids = fields.List(Integer())


_OFFSET_AS_SPACE = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class DeadlineQueryArgs(StrictSchema):
    received = fields.AwareDateTime(required=True, validate=in_calendar_years, metadata={
        "description": "收到时间，须带时区，如 2026-09-30T10:00:00+08:00（查询串中 + 写作 %2B）；1900–2200 年"})
    days = Integer(validate=validate.Range(1, 365), metadata={"description": "工作日数"})
    source = fields.String(validate=validate.OneOf([s.value for s in TaskSource]),
                           metadata={"description": "按任务来源的规则计算（代替 days）"})
    policy_effective_on = fields.Date(validate=in_calendar_years,
                                      metadata={"description": "source=policy_change 时政策的施行日期"})

    @pre_load
    def _plus_sent_unescaped(self, data, **kwargs):
        """A "+08:00" written into a URL unescaped arrives as " 08:00"; read it as meant."""
        raw = data.get("received") if hasattr(data, "get") else None
        if isinstance(raw, str) and _OFFSET_AS_SPACE.search(raw):
            data = dict(data)
            data["received"] = _OFFSET_AS_SPACE.sub(r"\1+\2", raw)
        return data


class DeadlineSchema(Schema):
    received_at = DateTime()
    due_at = DateTime(metadata={"description": "期限：第 N 个工作日 23:59:59（北京时间）"})
    provisional = fields.Boolean(metadata={"description": "含日历尚未确认的日期，可能随日历更新而变"})
    working_days = Integer(allow_none=True)
    source = fields.String(allow_none=True)


# --- verification ------------------------------------------------------------------------------------------------


class VerifyCreate(StrictSchema):
    version = Integer(load_default=None, allow_none=True,
                             metadata={"description": "所校核的版本号（也可用 If-Match 头）；已变则 409"})
    note = fields.String(load_default=None, allow_none=True, validate=_short)


class VerificationSchema(Schema):
    """kb.services.verification.Verified, dumped."""

    entry_id = Integer()
    version = Integer()
    verified_at = DateTime()
    verified_by = Integer()
    resolved_task_ids = fields.List(Integer(), metadata={"description": "因此办结的年度校核任务"})


class VerificationDueArgs(PageArgs):
    unit = fields.String(metadata={"description": "单位编码（热线办；承办单位只看本单位）"})
    within_days = Integer(validate=validate.Range(0, 366),
                                 metadata={"description": "只在本周期 N 天内结束时列出（即将到期的）"})


class VerificationDueItemSchema(Schema):
    entry_id = Integer()
    unit_code = fields.String()
    unit_name = fields.String()
    question = fields.String()
    version = Integer()
    published_at = DateTime(allow_none=True)
    verified_at = DateTime(allow_none=True)
    last_checked_at = DateTime(allow_none=True)
    due_on = fields.Date()
    task_id = Integer(allow_none=True)


class VerificationDueSchema(Schema):
    """kb.services.verification.VerificationDueSnapshot, dumped."""

    cycle_starts_on = fields.Date()
    cycle_ends_on = fields.Date()
    total = Integer()
    items = fields.List(fields.Nested(VerificationDueItemSchema))


# --- inbox -------------------------------------------------------------------------------------------------------


class InboxChangeRequestSchema(Schema):
    """kb.services.inbox.InboxChangeRequestSnapshot, dumped."""

    id = Integer()
    kind = fields.String()
    kind_label = Label(lambda cr: ChangeKind(cr.kind).label)
    state = fields.String()
    state_label = Label(lambda cr: State(cr.state).label)
    unit_code = fields.String()
    entry_id = Integer(allow_none=True)
    question = fields.String(allow_none=True)
    return_reason = fields.String(allow_none=True)
    updated_at = DateTime()


def reminder_message(reminder: ReminderSnapshot) -> str:
    """任务 12（华山街道办事处）即将到期，期限 2026-11-05 23:59"""
    return (f"任务 {reminder.task_id}（{reminder.unit_name}）{ReminderKind(reminder.kind).label}，期限 "
            f"{to_shanghai(reminder.due_at):%Y-%m-%d %H:%M}")


class ReminderSchema(Schema):
    """kb.services.inbox.ReminderSnapshot, dumped."""

    id = Integer()
    task_id = Integer()
    kind = fields.String()
    kind_label = Label(lambda reminder: ReminderKind(reminder.kind).label)
    due_at = DateTime()
    created_at = DateTime()
    unit_code = fields.String()
    entry_id = Integer(allow_none=True)
    detail = fields.String()
    message = Label(reminder_message)


class VerificationDueCountSchema(Schema):
    cycle_ends_on = fields.Date()
    entries = Integer()


class InboxSchema(Schema):
    """kb.services.inbox.InboxSnapshot, dumped."""

    role = fields.String()
    change_requests = fields.List(fields.Nested(InboxChangeRequestSchema),
                                  metadata={"description": "等待我处理的变更申请"})
    tasks_overdue = fields.List(fields.Nested(TaskSchema))
    tasks_due_soon = fields.List(fields.Nested(TaskSchema), metadata={"description": "一个工作日内到期"})
    tasks_open = fields.List(fields.Nested(TaskSchema))
    reminders = fields.List(fields.Nested(ReminderSchema))
    flags_to_triage = fields.List(fields.Nested(FlagSchema))
    declines_to_rule = fields.List(fields.Nested(TaskSchema))
    my_flags = fields.List(fields.Nested(FlagSchema), metadata={"description": "我提交的建议/纠错及处理结果"})
    my_tasks = fields.List(fields.Nested(TaskSchema), metadata={"description": "我下达或登记的任务及结果"})
    verification_due = fields.Nested(VerificationDueCountSchema, allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=Integer())
