"""Operators' flags on published knowledge, and the office's triage of them.

Registered under /api/v1: a flag is raised on an entry
(/knowledge/{id}/flags) and lives on as /flags/{id}.
"""
from __future__ import annotations

from flask.views import MethodView

from kb.models import Role
from kb.services import flags
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.api.tasks import corrections
from service.auth import current_actor
from service.schemas.common import page_of
from service.schemas.tasks import FlagCreate, FlagQueryArgs, FlagSchema, FlagTriageCreate

blp = api_blueprint("flags", __name__, "话务员建议与纠错反馈（答案错误或过时），热线办转交或不采纳")


@blp.route("/knowledge/<int:entry_id>/flags")
class EntryFlags(MethodView):
    @roles(Role.OPERATOR)
    @blp.arguments(FlagCreate)
    @blp.response(201, FlagSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def post(self, body, entry_id):
        """Suggest an improvement or report a wrong or outdated answer (operator)"""
        return flags.raise_flag(kb().uow(), current_actor(), entry_id, kind=body["kind"], text=body["text"],
                                now=kb().now())


@blp.route("/flags")
class Flags(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(FlagQueryArgs, location="query")
    @blp.response(200, page_of(FlagSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List flags with what became of them (operator: own; unit: on its knowledge; office: all)"""
        total, items = flags.list_flags(kb().reader(), current_actor(), state=args.get("state"),
                                        entry_id=args.get("entry_id"), limit=args["limit"], offset=args["offset"])
        return {"total": total, "items": items}


@blp.route("/flags/<int:flag_id>")
class Flag(MethodView):
    @blp.response(200, FlagSchema)
    @documented_errors(blp, 401, 403, 404)
    def get(self, flag_id):
        """Get one flag and its fate"""
        return flags.get_flag(kb().reader(), current_actor(), flag_id)


@blp.route("/flags/<int:flag_id>/triage")
class Triage(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(FlagTriageCreate)
    @blp.response(200, FlagSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, flag_id):
        """Pass the flag to the entry's unit as a task, or dismiss it with a reason (office)"""
        return flags.triage(kb().uow(), current_actor(), flag_id, decision=body["decision"], reason=body["reason"],
                            cause=body["cause"], now=kb().now(), settings=corrections())
