from __future__ import annotations

from datetime import datetime, time, timedelta

import orjson
from flask import Response
from flask.views import MethodView

from kb.models import Role
from kb.services import gaps, search
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.api.tasks import corrections
from service.auth import current_actor
from service.schemas.search import (
    DirectRateArgs, DirectRateSchema, GapSchema, GapTaskCreate, HotSchema, RecommendCreate, SearchQueryArgs, SearchResultSchema, SinceArgs, SuggestArgs,
    SuggestionsSchema, dump_search_page)
from service.schemas.common import page, page_of
from service.schemas.tasks import TaskSchema

blp = api_blueprint("search", __name__, "话务员检索：全文检索、联想、工单推荐、知识缺口")


MAX_REPORT_ROWS = 5000  # rows of the hot list and the gap report counted in total; the page is sliced from them


def run_search(text: str, *, category_id=None, units=(), page=1, per_page=10, mode="query", facets=False,
               exact_total=False, ranking="hybrid"):
    ctx = kb()
    return search.search(ctx.search, ctx.search_log, current_actor(), text=text, today=ctx.today(),
                         now=ctx.now(), category_id=category_id, unit_codes=tuple(units),
                         offset=(page - 1) * per_page, limit=per_page, mode=mode, facets=facets,
                         exact_total=exact_total, semantic=ranking != "lexical")


@blp.route("")
class Search(MethodView):
    # The hot path: one schema instance for every request (webargs builds one per request from a class),
    # and the answer encoded by orjson from plain dicts (SearchResultSchema documents it, dumps nothing).
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(SearchQueryArgs(), location="query")
    @blp.response(200, SearchResultSchema)
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Search published knowledge in effect today, best first, with highlights (and facets with facets=1)"""
        page = run_search(args["q"], category_id=args.get("category_id"), units=args["unit"],
                          page=args["page"], per_page=args["per_page"], facets=args["facets"],
                          exact_total=args["exact_total"], ranking=args["mode"])
        return Response(orjson.dumps(dump_search_page(page)), mimetype="application/json")


@blp.route("/recommend")
class Recommend(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(RecommendCreate)
    @blp.response(200, SearchResultSchema)
    @documented_errors(blp, 401, 403, 422)
    def post(self, body):
        """Recommend knowledge for a ticket: paste the citizen's description or the call notes"""
        return run_search(body["text"], category_id=body["category_id"], units=body["unit"],
                          per_page=body["limit"], mode="ticket", facets=True, ranking=body["mode"])


@blp.route("/suggest")
class Suggest(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(SuggestArgs, location="query")
    @blp.response(200, SuggestionsSchema)
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Type-ahead from the questions and similar phrasings of knowledge in effect today"""
        return search.suggest(kb().search, current_actor(), prefix=args["prefix"], today=kb().today(),
                              limit=args["limit"])


@blp.route("/hot")
class Hot(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(SinceArgs, location="query")
    @blp.response(200, page_of(HotSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Most used answers in the last days ({items, total}, limit/offset)"""
        return page(search.hot_knowledge(kb().reader(), current_actor(), today=kb().today(), limit=MAX_REPORT_ROWS,
                                         since=kb().now() - timedelta(days=args["days"])), args)


@blp.route("/gaps")
class Gaps(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(SinceArgs, location="query")
    @blp.response(200, page_of(GapSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Knowledge-gap report: searches with no result, or whose results nobody used ({items, total}; office)"""
        kb().search_log.flush()
        return page(gaps.knowledge_gaps(kb().reader(), current_actor(), since=kb().now() - timedelta(days=args["days"]),
                                        now=kb().now(), limit=MAX_REPORT_ROWS), args)


@blp.route("/gaps/tasks")
class GapTasks(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(GapTaskCreate)
    @blp.response(201, TaskSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body):
        """Open a gap task (缺漏) for a unit from a row of the knowledge-gap report (office)"""
        kb().search_log.flush()
        return gaps.open_gap_task(kb().uow(), current_actor(), query_key=body["query_key"],
                                  unit_code=body["unit_code"], detail=body["detail"],
                                  since=kb().now() - timedelta(days=body["days"]), now=kb().now(),
                                  settings=corrections())


@blp.route("/direct-rate")
class DirectRate(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(DirectRateArgs, location="query")
    @blp.response(200, DirectRateSchema)
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """直办率 (Art. 11): the share of calls answered directly from the knowledge base, per unit (office)"""
        from kb.calendar import SHANGHAI
        from kb.compliance import Period
        from kb.errors import ValidationFailed
        from kb.services import oversight

        try:
            period = Period.parse(args["period"])
        except ValueError:
            raise ValidationFailed({"period": "期间格式应为 2026-11、2026-Q4 或 2026"}) from None
        start = datetime.combine(period.start, time.min, SHANGHAI)
        end = datetime.combine(period.end + timedelta(days=1), time.min, SHANGHAI)
        return oversight.direct_answer_rate(kb().reader(), current_actor(), start=start, end=end, label=period.label)
