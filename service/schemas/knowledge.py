from __future__ import annotations

from marshmallow import Schema, fields, post_load, pre_dump, validate

from kb.models import ChangeKind, EntryFormat
from kb.proposal import Proposal
from kb.workflow import Check, State
from service.schemas.common import PageArgs, StrictSchema
from service.schemas.fields import MAX_ID, DateTime, Id, Integer, Label

_text = validate.Length(max=20_000)
_position = validate.Range(-MAX_ID - 1, MAX_ID, error="排序号超出范围")


class CategoryCreate(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 100))
    parent_id = Id(load_default=None, allow_none=True)
    position = Integer(load_default=0, validate=_position)
    is_notice = fields.Boolean(load_default=None, allow_none=True)


class CategoryUpdate(StrictSchema):
    name = fields.String(validate=validate.Length(1, 100))
    parent_id = Id(allow_none=True)
    position = Integer(validate=_position)
    is_notice = fields.Boolean()


class CategorySchema(Schema):
    id = Integer(dump_only=True)
    name = fields.String()
    parent_id = Integer(allow_none=True)
    position = Integer()
    is_notice = fields.Boolean(metadata={"description": "通知公告类：过期后自动下架"})


class ContentFields(StrictSchema):
    """Content of one question, one answer (一问一答)."""

    question = fields.String(validate=validate.Length(1, 500))
    similar_questions = fields.List(fields.String(validate=validate.Length(1, 500)),
                                    validate=validate.Length(max=50), metadata={"description": "相似问法"})
    answer = fields.String(validate=_text)
    keywords = fields.List(fields.String(validate=validate.Length(1, 50)), validate=validate.Length(max=50))
    category_id = Id()
    policy_title = fields.String(allow_none=True, validate=validate.Length(max=300),
                                 metadata={"description": "政策依据：文件标题"})
    policy_number = fields.String(allow_none=True, validate=validate.Length(max=100),
                                  metadata={"description": "文号，如 鲁政办字〔2021〕126号"})
    policy_attachments = Integer(validate=validate.Range(0, 1000), metadata={"description": "附件数"})
    effective_on = fields.Date()
    expires_on = fields.Date(allow_none=True, metadata={"description": "临时性通知的失效日期"})
    urgent = fields.Boolean()
    format = fields.String(validate=validate.OneOf([f.value for f in EntryFormat]),
                           metadata={"description": "qa 一问一答；document 以其他方式上传"})

    @post_load
    def _proposal(self, data, **kwargs) -> Proposal:
        return Proposal.of(data)  # the fields given, and only those


class ContentSchema(Schema):
    question = fields.String()
    similar_questions = fields.List(fields.String())
    answer = fields.String()
    keywords = fields.List(fields.String())
    category_id = Integer(allow_none=True)
    policy_title = fields.String(allow_none=True)
    policy_number = fields.String(allow_none=True)
    policy_attachments = Integer()
    effective_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    urgent = fields.Boolean()
    format = fields.String()

    @pre_dump
    def _named_fields(self, obj, **kwargs):
        # A proposal answers only the fields it names (an absent field is left out, a None one is null).
        return obj.fields() if isinstance(obj, Proposal) else obj


class KnowledgeQueryArgs(PageArgs):
    q = fields.String(metadata={"description": "检索词；给出时按相关度检索"})
    category_id = Id()
    unit = fields.String(metadata={"description": "单位编码"})
    include_withdrawn = fields.Boolean(load_default=False)


class ScheduledUpdateSchema(Schema):
    version = fields.Integer()
    effective_on = Label(lambda update: update.effective_on.isoformat(),
                         metadata={"description": "YYYY-MM-DD，当日零时起替换当前版本"})
    label = Label(lambda update: f"将于 {update.effective_on.isoformat()} 更新",
                  metadata={"description": "如“将于 2026-12-01 更新”"})


class KnowledgeSchema(ContentSchema):
    id = Integer(dump_only=True)
    status = fields.String(dump_only=True)
    version = Integer(dump_only=True, metadata={"description": "当前发布版本号；修改时作为 If-Match 或 base_version 提交"})
    unit_code = fields.String(dump_only=True)
    unit_name = fields.String(dump_only=True)
    category_name = fields.String(dump_only=True)
    created_at = DateTime(dump_only=True)
    updated_at = DateTime(dump_only=True)
    verified_at = DateTime(dump_only=True, allow_none=True)
    withdrawn_at = DateTime(dump_only=True, allow_none=True)
    change_request_id = Integer(dump_only=True, allow_none=True)
    scheduled_update = fields.Nested(ScheduledUpdateSchema, dump_only=True, allow_none=True, metadata={
        "description": "已发布、尚未生效的修改：当前版本在其生效日之前继续有效"})


class VersionSchema(ContentSchema):
    number = Integer(dump_only=True)
    change_request_id = Integer(dump_only=True, allow_none=True)
    created_at = DateTime(dump_only=True)


class ChangeRequestCreate(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ChangeKind]),
                         metadata={"description": "new 新增 / modify 修改规范答案 / delete 失效知识上报删除 / revoke 知识撤销申请 / suggestion 知识建议"})
    entry_id = Id(load_default=None, allow_none=True)
    base_version = Integer(load_default=None, allow_none=True,
                                  metadata={"description": "所依据的发布版本号（也可用 If-Match 头）"})
    unit_code = fields.String(load_default=None, allow_none=True, metadata={"description": "热线办代为采集时指定单位"})
    proposal = fields.Nested(ContentFields, load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True, validate=_text)


class ChangeRequestUpdate(StrictSchema):
    proposal = fields.Nested(ContentFields)
    reason = fields.String(allow_none=True, validate=_text)
    revision = Integer(metadata={"description": "所依据的修订号（也可用 If-Match 头）"})


class ChangeRequestQueryArgs(PageArgs):
    state = fields.String(validate=validate.OneOf([s.value for s in State]))
    unit = fields.String()
    kind = fields.String(validate=validate.OneOf([k.value for k in ChangeKind]))


class RevisionArgs(StrictSchema):
    revision = Integer(load_default=None, allow_none=True)


class UnitReviewCreate(StrictSchema):
    approve = fields.Boolean(required=True)
    checks = fields.Dict(keys=fields.String(validate=validate.OneOf([c.value for c in Check])),
                         values=fields.Boolean(), required=True,
                         metadata={"description": "第九条四项检查：no_typos, clear, answer_matches, accurate_with_basis"})
    reason = fields.String(load_default=None, allow_none=True, validate=_text)
    revision = Integer(load_default=None, allow_none=True)
    amendments = fields.Nested(ContentFields, load_default=None, allow_none=True, metadata={
        "description": "审核人修改或完善的内容（第八条（二）），仅随审核通过提交；须同时提交 revision 或 If-Match"})


class OfficeReviewCreate(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["publish", "return", "accept", "decline"]),
                             metadata={"description": "知识变更：publish 发布 / return 退回；"
                                                      "知识建议：accept 采纳 / decline 不采纳（须说明理由） / return 退回"})
    reason = fields.String(load_default=None, allow_none=True, validate=_text)
    revision = Integer(load_default=None, allow_none=True)


class WarningSchema(Schema):
    code = fields.String()
    field = fields.String()
    message = fields.String()


class ReviewSchema(Schema):
    stage = fields.String()
    decision = fields.String()
    checks = fields.Dict(keys=fields.String(), values=fields.Boolean())
    reason = fields.String(allow_none=True)
    reviewer_id = Integer()
    decided_at = DateTime()
    amendments = fields.Dict(allow_none=True, metadata={
        "description": "审核人修改的内容：字段 → {before, after}"})
    based_on_revision = Integer(allow_none=True, metadata={"description": "审核人修改所基于的修订号"})


def _suggestion_outcome_label(outcome) -> str:
    """已采纳（：理由） or 未采纳：理由, as the unit reads the office's decision on its suggestion."""
    if outcome.outcome == "accepted":
        return "已采纳" + (f"：{outcome.reason}" if outcome.reason else "")
    return f"未采纳：{outcome.reason}"


class SuggestionOutcomeSchema(Schema):
    outcome = fields.String(metadata={"description": "accepted 已采纳 / declined 未采纳"})
    reason = fields.String(allow_none=True)
    label = Label(_suggestion_outcome_label, metadata={"description": "如“未采纳：已有该分类”"})
    decided_at = DateTime()


class ChangeRequestSchema(Schema):
    id = Integer(dump_only=True)
    kind = fields.String()
    kind_label = Label(lambda cr: ChangeKind(cr.kind).label)
    state = fields.String()
    state_label = Label(lambda cr: State(cr.state).label)
    unit_code = fields.String()
    entry_id = Integer(allow_none=True)
    base_version = Integer(allow_none=True)
    proposal = fields.Nested(ContentSchema)
    reason = fields.String(allow_none=True)
    revision = Integer(metadata={"description": "每次修改加一；下次修改或审核时提交"})
    created_by = Integer()
    created_at = DateTime()
    updated_at = DateTime()
    submitted_at = DateTime(allow_none=True)
    published_at = DateTime(allow_none=True)
    published_version = Integer(allow_none=True)
    published_directly = fields.Boolean(metadata={"description": "热线办紧急直接发布（第十条第三项）"})
    return_reason = fields.String(allow_none=True)
    suggestion_outcome = fields.Nested(SuggestionOutcomeSchema, allow_none=True, metadata={
        "description": "知识建议的处理结果（热线办采纳或不采纳及理由）"})
    reviews = fields.List(fields.Nested(ReviewSchema))
    warnings = fields.List(fields.Nested(WarningSchema), metadata={"description": "提交辅助提示，不阻止保存"})


class AuditQueryArgs(StrictSchema):
    object_type = fields.String()
    object_id = Id()
    action = fields.String()
    limit = Integer(load_default=50, validate=validate.Range(1, 500))
    offset = Integer(load_default=0, validate=validate.Range(0, 1_000_000))
    before_id = Id(metadata={"description": "只看编号小于此的事件（翻页游标，比 offset 稳定）"})


class AuditEventSchema(Schema):
    id = Integer()
    occurred_at = DateTime()
    actor_id = Integer(allow_none=True)
    action = fields.String()
    object_type = fields.String()
    object_id = Integer(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
