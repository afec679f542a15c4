"""Compliance counts and scores for the scoring engine (and the office): pull as JSON, CSV or Excel.

The mapping from query to records is kb.compliance's; from records to points
scoring_hooks'; this module only parses, picks the format and checks who asks.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from kb import compliance
from kb.calendar import json_value
from kb.errors import NotFound, ValidationFailed
from kb.models import Role
from scoring_hooks import exports
from scoring_hooks.profiles import SettingsError, get_profile, load_profiles
from scoring_hooks.scoring import rule_sets, score_changes, score_report
from service import config
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.api.tasks import corrections
from service.auth import current_actor
from service.schemas.common import ShortListArgs, page, page_of
from service.schemas.scoring import (
    ClosedMonthCreate, ClosedMonthSchema, CloseResultSchema, ComplianceQueryArgs, ComplianceSchema, ProfileSchema,
    RecomputeResultSchema, ScoreQueryArgs, ScoresSchema)

blp = api_blueprint("compliance", __name__, "考核统计：各单位知识库工作量与合规计数（月、季、年或任意期间）")
scores_blp = api_blueprint("scores", __name__, "考核得分：按各地考核方案计算，逐项列出扣分及依据")
profiles_blp = api_blueprint("scoring-profiles", __name__, "考核方案：名称、缺省设置与设置格式")

_MEDIA = {"csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


# --- shared by the blueprints -------------------------------------------------------------------------------


def scoring_settings() -> dict[str, dict[str, Any]]:
    """Per-profile settings of this deployment (KB_SCORING_SETTINGS)."""
    return config.scoring_settings(current_app.config.get("SCORING_SETTINGS"))


def _period(args) -> compliance.Period:
    try:
        if "period" in args:
            return compliance.Period.parse(args["period"])
        return compliance.Period.parse(start=args["from_"], end=args["to"])
    except ValueError as exc:
        raise ValidationFailed({"period": f"期间无效：{exc}"}, "期间格式应为 2026-10、2026-Q4、2026 或 from/to 日期") from None


def _units(args) -> list[str] | None:
    if "unit" not in args:
        return None
    return [code.strip() for code in args["unit"].split(",") if code.strip()] or None


def _profile(name: str):
    try:
        return get_profile(name)
    except KeyError:
        raise NotFound(f"考核方案 {name} 不存在（可用：{'、'.join(load_profiles())}）",
                       code="profile_not_found", details={"profile": name}) from None


def _report(args, deadlines) -> compliance.ComplianceReport:
    return compliance.compliance_report(kb().reader(), current_actor(), _period(args), now=kb().now(),
                                        unit_codes=_units(args), deadlines=deadlines)


def _file(body: bytes, fmt: str, name: str) -> Response:
    response = Response(body, content_type=_MEDIA[fmt])
    # RFC 6266: an ASCII name for old clients, the Chinese-free label is ASCII anyway.
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _meta(report: compliance.ComplianceReport) -> dict:
    return {"period": report.period.to_dict(), "as_of": json_value(report.as_of), "frozen": report.frozen,
            "frozen_at": json_value(report.frozen_at) if report.frozen_at else None,
            "provisional": report.provisional}


def _service_rule_sets(settings):
    return rule_sets(corrections().rules, settings)


# --- /api/v1/compliance ---------------------------------------------------------------------------------------


@blp.route("")
class Compliance(MethodView):
    @roles(Role.SCORER, Role.OFFICE_ADMIN, Role.MAINTAINER, Role.UNIT_REVIEWER)  # a unit: its own only
    @blp.arguments(ComplianceQueryArgs, location="query")
    @blp.response(200, ComplianceSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def get(self, args):
        """Per-unit counts for a period, as of its end (format=csv or xlsx for a spreadsheet; scorer, office)"""
        deadlines = None
        if "profile" in args:
            deadlines = _task_deadlines(_profile(args["profile"]), scoring_settings())
        report = _report(args, deadlines)
        if args["format"] != "json":
            writer = exports.to_csv if args["format"] == "csv" else _xlsx("知识库考核统计")
            return _file(writer(report.units, exports.COMPLIANCE_COLUMNS), args["format"],
                         f"compliance-{report.period.label}")
        return {**_meta(report), "deadlines": _deadline_days(deadlines),
                "units": [unit.to_dict() for unit in report.units]}


@blp.route("/closed-months")
class ClosedMonths(MethodView):
    @roles(Role.SCORER, Role.OFFICE_ADMIN)
    @blp.arguments(ShortListArgs, location="query")
    @blp.response(200, page_of(ClosedMonthSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Months closed so far, whose counts are frozen ({items, total}, limit/offset; scorer, office)"""
        return page(compliance.closed_months(kb().reader(), current_actor()), args)

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(ClosedMonthCreate)
    @blp.response(201, CloseResultSchema)
    @documented_errors(blp, 401, 403, 409, 422)
    def post(self, body):
        """Close an ended month now instead of waiting for the scheduler; closing twice changes nothing (office)"""
        return compliance.close_month(kb().uow(), _period(body), now=kb().now(), actor=current_actor(),
                                      rule_sets=_service_rule_sets(scoring_settings()))


@blp.route("/closed-months/<string:period>/recompute")
class Recompute(MethodView):
    @blp.response(200, RecomputeResultSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, period):
        """Recount a closed month from the records; each changed unit is audited and score.changed announced (office)"""
        settings = scoring_settings()
        return compliance.recompute_month(kb().uow(), current_actor(), _period({"period": period}), now=kb().now(),
                                          rule_sets=_service_rule_sets(settings),
                                          score_change=score_changes(settings))


# --- /api/v1/scores -------------------------------------------------------------------------------------------


@scores_blp.route("")
class Scores(MethodView):
    @roles(Role.SCORER, Role.OFFICE_ADMIN, Role.MAINTAINER, Role.UNIT_REVIEWER)  # a unit: its own only
    @scores_blp.arguments(ScoreQueryArgs, location="query")
    @scores_blp.response(200, ScoresSchema)
    @documented_errors(scores_blp, 401, 403, 404, 422)
    def get(self, args):
        """Each unit's points under a profile, every deduction itemised with its evidence (scorer, office)"""
        profile = _profile(args["profile"])
        own = scoring_settings().get(profile.name)
        report = _report(args, _task_deadlines(profile, scoring_settings()))
        scores = score_report(profile, report, own)
        if args["format"] != "json":
            writer = exports.to_csv if args["format"] == "csv" else _xlsx("知识库考核得分")
            return _file(writer(scores, exports.score_columns(scores)), args["format"],
                         f"scores-{profile.name}-{report.period.label}")
        return {**_meta(report), "profile": profile.name, "profile_title": profile.title,
                "settings": _jsonable(profile.resolve_settings(own)), "units": [score.to_dict() for score in scores]}


@profiles_blp.route("")
class Profiles(MethodView):
    @roles(Role.SCORER, Role.OFFICE_ADMIN)
    @profiles_blp.arguments(ShortListArgs, location="query")
    @profiles_blp.response(200, page_of(ProfileSchema))
    @documented_errors(profiles_blp, 401, 403, 422)
    def get(self, args):
        """The scoring profiles this service knows, with their settings ({items, total}; scorer, office)"""
        settings = scoring_settings()
        return page([{"name": name, "title": p.title, "defaults": _jsonable(p.defaults),
                 "settings": _jsonable(p.resolve_settings(settings.get(name))),
                 "settings_schema": _jsonable(p.settings_schema)} for name, p in load_profiles().items()], args)


# --- helpers --------------------------------------------------------------------------------------------------


def _task_deadlines(profile, settings):
    try:
        return profile.task_deadlines(settings.get(profile.name))
    except SettingsError as exc:
        raise ValidationFailed({"profile": str(exc)}, "考核方案设置有误") from None


def _deadline_days(deadlines) -> dict[str, int]:
    rules = compliance.deadline_rules(deadlines)
    return {str(source): days for source, days in rules.working_days.items()}


def _xlsx(title: str):
    return lambda rows, columns: exports.to_xlsx(rows, columns, title)


def _jsonable(value):
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
