"""Compliance counts and scores for the scoring engine: query arguments and dump schemas."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kb.calendar import json_value
from service.schemas.common import StrictSchema
from service.schemas.fields import DerivedString, Integer

FORMATS = ("json", "csv", "xlsx")


class PeriodArgs(StrictSchema):
    period = fields.String(validate=validate.Length(min=4, max=30), metadata={
        "description": "期间：2026-10（月）、2026-Q4（季度）、2026（年）；或用 from/to"})
    from_ = fields.Date(data_key="from", metadata={"description": "起始日期（含），与 to 同用"})
    to = fields.Date(metadata={"description": "截止日期（含）"})
    unit = fields.String(validate=validate.Length(min=1, max=400), metadata={
        "description": "单位编码，多个用逗号分隔；缺省为全部单位"})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS), metadata={
        "description": "json、csv 或 xlsx（表头为中文）"})

    @validates_schema
    def _one_period(self, data, **kwargs):
        has_range = "from_" in data or "to" in data
        if "period" in data and has_range:
            raise ValidationError("period 与 from/to 只能二选一", field_name="period")
        if "period" not in data and not has_range:
            raise ValidationError("须给出 period，或 from 与 to", field_name="period")
        if has_range and ("from_" not in data or "to" not in data):
            raise ValidationError("from 与 to 须同时给出", field_name="from" if "from_" not in data else "to")


class ComplianceQueryArgs(PeriodArgs):
    profile = fields.String(validate=validate.Length(min=1, max=60), metadata={
        "description": "按该考核方案的办理时限判断超期；缺省为系统时限"})


class ScoreQueryArgs(PeriodArgs):
    profile = fields.String(required=True, validate=validate.Length(min=1, max=60), metadata={
        "description": "考核方案，如 nankang-2023、huantai-2017、changzhou-edu、licheng"})


class PeriodSchema(Schema):
    label = fields.String()
    start = fields.String(metadata={"description": "YYYY-MM-DD"})
    end = fields.String(metadata={"description": "YYYY-MM-DD，含当日"})


class TaskTallySchema(Schema):
    received = Integer(metadata={"description": "期内收到"})
    resolved_on_time = Integer(metadata={"description": "期内按时办结"})
    resolved_late = Integer(metadata={"description": "期内逾期办结"})
    open_overdue = Integer(metadata={"description": "期末仍未办结且已超期"})
    declined = Integer(metadata={"description": "期内经热线办同意退回"})
    late_task_ids = fields.List(Integer())
    overdue_task_ids = fields.List(Integer())
    due_working_days = Integer(allow_none=True, metadata={"description": "据以判断超期的工作日时限"})
    office_late = Integer(metadata={
        "description": "单位按时报送、热线办发布超期（热线办自身的延误，不扣单位分）"})
    office_late_task_ids = fields.List(Integer())


class UnitComplianceSchema(Schema):
    unit_code = fields.String()
    unit_name = fields.String()
    period = fields.Nested(PeriodSchema)
    as_of = fields.String(metadata={"description": "统计截至时刻（期末或当前）"})
    uploads_qa = Integer(metadata={"description": "新增知识（一问一答）"})
    uploads_document = Integer(metadata={"description": "新增知识（其他形式）"})
    uploads_by_category = fields.Dict(keys=fields.String(), values=Integer())
    upload_entry_ids = fields.List(Integer())
    modifications = Integer()
    deletions = Integer()
    revocations = Integer()
    verifications = Integer()
    published_entries = Integer(metadata={"description": "期末已发布且有效的知识"})
    covered_entries = Integer(metadata={"description": "其中近 12 个月内更新或校核过的"})
    uncovered_entry_ids = fields.List(Integer())
    coverage = fields.Float(allow_none=True)
    tasks_by_source = fields.Dict(keys=fields.String(), values=fields.Nested(TaskTallySchema))
    suggestions_received = Integer()
    suggestions_acted_in_time = Integer()
    suggestions_not_acted = Integer()
    suggestion_ids_not_acted = fields.List(Integer())
    usages = Integer()
    usages_confirmed_wrong = Integer()
    usage_error_rate = fields.Float(allow_none=True)
    months_without_update = fields.List(fields.String(), metadata={
        "description": "已结束的月份中既无发布的变更也无校核的月份（运行中的月份与单位成立前的月份不计）"})
    months_without_change = fields.List(fields.String(), metadata={
        "description": "已结束的月份中无发布的变更的月份（仅校核不算更新）"})
    wrong_answers_late_policy = fields.Integer(metadata={
        "description": "期内确认的、因新政策对接不及时造成的错误解答"})
    late_policy_flag_ids = fields.List(fields.Integer())
    unit_suggestions_accepted = fields.Integer(metadata={"description": "期内被热线办采纳的本单位知识建议"})
    unit_suggestions_declined = fields.Integer(metadata={"description": "期内热线办未采纳的本单位知识建议"})
    provisional = fields.Boolean(metadata={"description": "期间尚未结束，数据为临时数"})


class ComplianceSchema(Schema):
    period = fields.Nested(PeriodSchema)
    as_of = fields.String()
    frozen = fields.Boolean(metadata={"description": "是否为已结账月份的冻结数据"})
    frozen_at = fields.String(allow_none=True)
    provisional = fields.Boolean(metadata={"description": "期间尚未结束：计数与得分为临时数，运行中的月份不计"})
    deadlines = fields.Dict(keys=fields.String(), values=Integer(),
                            metadata={"description": "判断超期所用的工作日时限"})
    units = fields.List(fields.Nested(UnitComplianceSchema))


class DeductionSchema(Schema):
    rule = fields.String()
    points = fields.Float()
    reason = fields.String()
    evidence = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()),
                           metadata={"description": "扣分依据：任务、知识、建议的编号或月份"})


class ItemScoreSchema(Schema):
    item = fields.String()
    max_points = fields.Float()
    points = fields.Float()
    deductions = fields.List(fields.Nested(DeductionSchema))
    notes = fields.List(fields.String())


class UnitScoreSchema(Schema):
    unit_code = fields.String()
    unit_name = fields.String()
    period = fields.Nested(PeriodSchema)
    points = fields.Float()
    max_points = fields.Float()
    items = fields.List(fields.Nested(ItemScoreSchema))
    report = fields.Dict()
    notes = fields.List(fields.String())
    provisional = fields.Boolean(metadata={"description": "期间尚未结束，得分为临时数"})


class ScoresSchema(Schema):
    profile = fields.String()
    profile_title = fields.String()
    settings = fields.Dict()
    period = fields.Nested(PeriodSchema)
    as_of = fields.String()
    frozen = fields.Boolean()
    frozen_at = fields.String(allow_none=True)
    provisional = fields.Boolean(metadata={"description": "期间尚未结束：得分为临时数"})
    units = fields.List(fields.Nested(UnitScoreSchema))


class ProfileSchema(Schema):
    name = fields.String()
    title = fields.String()
    defaults = fields.Dict()
    settings = fields.Dict(metadata={"description": "本服务实际使用的设置（KB_SCORING_SETTINGS 覆盖缺省值）"})
    settings_schema = fields.Dict()


class ClosedMonthCreate(StrictSchema):
    period = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4}-[0-9]{2}$", error="应为 YYYY-MM"))


class ClosedMonthSchema(Schema):
    """Dumps kb.compliance.ClosedMonthSnapshot; its moments as RFC 3339 at +08:00 (documented as plain strings)."""

    period = fields.String()
    units = Integer()
    frozen_at = DerivedString(lambda month: json_value(month.frozen_at), dump_only=False)
    recomputed_at = DerivedString(lambda month: json_value(month.recomputed_at) if month.recomputed_at else None,
                                  allow_none=True, dump_only=False)


class CloseResultSchema(Schema):
    period = fields.String()
    frozen = Integer(metadata={"description": "本次冻结的单位×时限组合数；0 表示早已结账"})
    announced = fields.Boolean()
    deliveries = Integer()


class RecomputeResultSchema(Schema):
    period = fields.String()
    changed_units = fields.List(fields.String())
    deliveries = Integer()
