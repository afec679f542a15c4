from __future__ import annotations

from marshmallow import Schema, fields, validate

from kb.services.search import SearchPage
from service.schemas.common import PageArgs, StrictSchema
from service.schemas.fields import DateTime, Id, Integer


MAX_RELATED = 50  # related entries are the index's best matches: total counts at most this many


RANKING_MODES = ("hybrid", "lexical")


class SearchQueryArgs(StrictSchema):
    q = fields.String(load_default="", metadata={"description": "话务员输入的检索词，日常用语即可"})
    category_id = Id(metadata={"description": "分类（含下级分类）"})
    unit = fields.List(fields.String(), load_default=list, metadata={"description": "单位编码，可多个"})
    page = Integer(load_default=1, validate=validate.Range(1, 500))
    per_page = Integer(load_default=10, validate=validate.Range(1, 50))
    facets = fields.Boolean(load_default=False, metadata={
        "description": "1：同时返回按分类、单位的命中数（分面）；不传则不计算，答案中没有 facets"})
    exact_total = fields.Boolean(load_default=False, metadata={
        "description": "1：total 为全部命中数；不传时只数到本页之后一条（total_exact 为 false 时表示“至少”），检索更快"})
    mode = fields.String(load_default="hybrid", validate=validate.OneOf(RANKING_MODES), metadata={
        "description": "hybrid（默认）：关键词与语义相结合；lexical：只按关键词（与以前相同，供对比）"})


class RecommendCreate(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(1, 5000),
                         metadata={"description": "工单内容或通话记录全文"})
    category_id = Id(load_default=None, allow_none=True)
    unit = fields.List(fields.String(), load_default=list)
    limit = Integer(load_default=5, validate=validate.Range(1, 20))
    mode = fields.String(load_default="hybrid", validate=validate.OneOf(RANKING_MODES),
                         metadata={"description": "hybrid（默认）或 lexical（只按关键词）"})


class SuggestArgs(StrictSchema):
    prefix = fields.String(required=True, validate=validate.Length(1, 50))
    limit = Integer(load_default=8, validate=validate.Range(1, 20))


class SuggestionsSchema(Schema):
    prefix = fields.String(metadata={"description": "话务员已输入的内容"})
    suggestions = fields.List(fields.String(), metadata={"description": "在效知识的问题和相似问法，最相关的在前"})


class HitSchema(Schema):
    """kb.services.search.SearchHit, dumped: the entry, score and highlights, and the declared fields of the
    index's stored document (a field the document lacks is left out)."""

    entry_id = Integer()
    score = fields.Float()
    version = Integer()
    unit_code = fields.String()
    unit_name = fields.String()
    category_id = Integer()
    category_name = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True, metadata={"description": "最近发布时间"})
    verified_at = fields.String(allow_none=True, metadata={"description": "最近校核时间"})
    effective_on = fields.String()
    expires_on = fields.String(allow_none=True)
    policy_number = fields.String(allow_none=True)
    policy_title = fields.String(allow_none=True)
    policy_warning = fields.String(allow_none=True, metadata={"description": "引用的政策文件已废止或修订时的提醒"})
    urgent = fields.Boolean()
    scheduled_update = fields.Dict(allow_none=True, metadata={
        "description": "已发布、尚未生效的修改：{version, effective_on, label: “将于 YYYY-MM-DD 更新”}"})
    highlights = fields.Dict(keys=fields.String(), values=fields.String(),
                             metadata={"description": "命中片段，<em> 标出命中词：question、answer；按语义找到的"
                                                      "知识另有 matched_question（与检索词意思最接近的问法）"})

    def get_attribute(self, obj, attr, default):
        if attr in _HIT_OWN_FIELDS:
            return getattr(obj, attr)
        return obj.document.get(attr, default)


_HIT_OWN_FIELDS = frozenset({"entry_id", "score", "highlights"})  # SearchHit's own; the rest are the document's


class CategoryFacetSchema(Schema):
    category_id = Integer()
    count = Integer()


class UnitFacetSchema(Schema):
    unit_code = fields.String()
    count = Integer()


class FacetsSchema(Schema):
    category = fields.List(fields.Nested(CategoryFacetSchema))
    unit = fields.List(fields.Nested(UnitFacetSchema))


class SearchResultSchema(Schema):
    search_id = fields.String(metadata={"description": "记录“使用了此答案”时带上"})
    total = Integer(metadata={"description": "命中数；total_exact 为 false 时是下限（还有下一页）"})
    total_exact = fields.Boolean(metadata={
        "description": "true：total 是全部命中数；false：至少这么多（如 Elasticsearch 的 track_total_hits）"})
    took_ms = fields.Float()
    hits = fields.List(fields.Nested(HitSchema))
    facets = fields.Nested(FacetsSchema, metadata={
        "description": "按分类、单位的命中数，各取最多的 20 个；检索时带 facets=1 才有"})

    def get_attribute(self, obj, attr, default):
        value = super().get_attribute(obj, attr, default)
        return default if attr == "facets" and value is None else value  # not asked for: no facets key


_HIT_FIELDS = tuple(HitSchema._declared_fields)
_DOCUMENT_FIELDS = tuple(name for name in _HIT_FIELDS if name not in _HIT_OWN_FIELDS)
if _HIT_FIELDS != ("entry_id", "score", *_DOCUMENT_FIELDS, "highlights"):  # the order dump_search_page writes
    raise RuntimeError("HitSchema: entry_id and score first, highlights last")


def dump_search_page(page: SearchPage) -> dict:
    """What ``SearchResultSchema().dump(page)`` gives for the search use case's page, ~20× faster.

    The hot endpoint's page is built by ``kb.services.search.search`` from the
    index's stored documents with the right types already, so this only keeps
    the declared fields (the document holds more, e.g. the question); the
    OpenAPI document still comes from the schema, and a test holds the two equal.
    """
    hits = []
    for hit in page.hits:
        document = hit.document
        dumped_hit = {"entry_id": hit.entry_id, "score": hit.score}
        for name in _DOCUMENT_FIELDS:
            if name in document:
                dumped_hit[name] = document[name]
        dumped_hit["highlights"] = dict(hit.highlights)
        hits.append(dumped_hit)
    dumped = {"search_id": page.search_id, "total": page.total, "total_exact": page.total_exact,
              "took_ms": float(page.took_ms), "hits": hits}
    if page.facets is not None:
        dumped["facets"] = {
            "category": [{"category_id": f.category_id, "count": f.count} for f in page.facets.category],
            "unit": [{"unit_code": f.unit_code, "count": f.count} for f in page.facets.unit]}
    return dumped


class UsageCreate(StrictSchema):
    search_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    ticket_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    answered_directly = fields.Boolean(load_default=True, metadata={
        "description": "true：话务员据此直接答复（计入直办率）；false：仍转派承办单位"})


class DirectRateArgs(StrictSchema):
    period = fields.String(required=True, metadata={"description": "2026-11、2026-Q4 或 2026"})


class DirectRateUnitSchema(Schema):
    unit_code = fields.String()
    unit_name = fields.String()
    calls = fields.Integer()
    answered_directly = fields.Integer()
    rate = fields.Float(allow_none=True)


class DirectRateSchema(Schema):
    period = fields.String()
    calls = fields.Integer(metadata={"description": "记录了使用知识的来电"})
    answered_directly = fields.Integer()
    rate = fields.Float(allow_none=True, metadata={"description": "直办率；没有来电时为空"})
    units = fields.List(fields.Nested(DirectRateUnitSchema))


class UsageSchema(Schema):
    id = Integer()
    answered_directly = fields.Boolean()
    entry_id = Integer()
    version = Integer()
    used_at = DateTime()
    search_id = fields.String(allow_none=True)
    ticket_number = fields.String(allow_none=True)


class SinceArgs(PageArgs):
    days = Integer(load_default=30, validate=validate.Range(1, 366))


class RelatedArgs(StrictSchema):
    limit = Integer(load_default=5, validate=validate.Range(1, MAX_RELATED))
    offset = Integer(load_default=0, validate=validate.Range(0, MAX_RELATED - 1))


class HotSchema(Schema):
    entry_id = Integer()
    question = fields.String()
    unit_code = fields.String()
    usages = Integer()


class GapTaskRefSchema(Schema):
    id = Integer()
    unit_code = fields.String()
    state = fields.String()


class GapSchema(Schema):
    """kb.services.gaps.GapSnapshot, dumped."""

    query_key = fields.String(metadata={"description": "归一化的检索词；开缺漏任务时用它指明这一行"})
    query = fields.String()
    searches = Integer()
    zero_results = Integer()
    abandoned = Integer(metadata={"description": "有结果但没有人使用"})
    last_searched_at = DateTime()
    tasks = fields.List(fields.Nested(GapTaskRefSchema), metadata={"description": "已由此行开出的缺漏任务"})


class GapTaskCreate(StrictSchema):
    query_key = fields.String(required=True, validate=validate.Length(1, 200),
                              metadata={"description": "知识缺口报告中这一行的 query_key"})
    unit_code = fields.String(required=True, validate=validate.Length(1, 50),
                              metadata={"description": "应补充知识的承办单位"})
    detail = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20_000),
                           metadata={"description": "热线办的说明；检索次数等数据会自动附上"})
    days = Integer(load_default=30, validate=validate.Range(1, 366),
                          metadata={"description": "与缺口报告相同的统计天数"})


class SynonymCreate(StrictSchema):
    terms = fields.List(fields.String(validate=validate.Length(1, 50)), required=True,
                        validate=validate.Length(2, 30), metadata={"description": "第一个为规范词"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class SynonymSchema(Schema):
    id = Integer()
    terms = fields.List(fields.String())
    note = fields.String(allow_none=True)
    updated_at = DateTime()


class SynonymImport(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(1, 500_000),
                         metadata={"description": "每行一组，用 / , 或制表符分隔；# 开头为注释"})
    replace = fields.Boolean(load_default=False)


class SynonymImportResult(Schema):
    added = Integer()
    groups = Integer()
