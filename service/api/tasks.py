from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from kb.models import Role
from kb.services import task_changes, tasks
from kb.services.tasks import CorrectionSettings
from service.api import if_match_number, kb
from service.api.common import api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.config import correction_settings
from service.schemas.common import page_of
from service.schemas.knowledge import ChangeRequestSchema
from service.schemas.tasks import (
    DeclineCreate, DeclineRulingCreate, TaskChangeRequestCreate, TaskCreate, TaskLinkCreate, TaskQueryArgs,
    TaskSchema)

blp = api_blueprint("tasks", __name__, "纠错/更新任务：热线办反馈、话务员建议、市级通知、单位自查、政策变化、突发事项、年度校核")


def corrections() -> CorrectionSettings:
    """Deadline rules and verification cycle of the running app, read once."""
    settings = current_app.extensions.get("kb.corrections")
    if settings is None:
        settings = current_app.extensions["kb.corrections"] = correction_settings(current_app.config)
    return settings


@blp.route("")
class Tasks(MethodView):
    @roles(Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(TaskQueryArgs, location="query")
    @blp.response(200, page_of(TaskSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List tasks, open ones by deadline first (own unit; the office sees all)"""
        total, items = tasks.list_tasks(
            kb().reader(), current_actor(), now=kb().now(), state=args.get("state"), unit_code=args.get("unit"),
            source=args.get("source"), entry_id=args.get("entry_id"), overdue=args.get("overdue"),
            limit=args["limit"], offset=args["offset"])
        return {"total": total, "items": items}

    @roles(Role.OFFICE_ADMIN, Role.MAINTAINER, Role.UNIT_REVIEWER)
    @blp.arguments(TaskCreate)
    @blp.response(201, TaskSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def post(self, body):
        """Open a task: office feedback, a city notice or an emergency (office); an error or gap found by the unit"""
        return tasks.create_task(kb().uow(), current_actor(), now=kb().now(), settings=corrections(), **body)


@blp.route("/<int:task_id>")
class Task(MethodView):
    @blp.response(200, TaskSchema)
    @documented_errors(blp, 401, 403, 404)
    def get(self, task_id):
        """Get a task with its history"""
        return tasks.get_task(kb().reader(), current_actor(), task_id, now=kb().now())


@blp.route("/<int:task_id>/link")
class Link(MethodView):
    @roles(Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(TaskLinkCreate)
    @blp.response(200, TaskSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, task_id):
        """Link the change request that fixes the task; the task resolves when it is published"""
        return tasks.link_change_request(kb().uow(), current_actor(), task_id,
                                         change_request_id=body["change_request_id"], now=kb().now())


@blp.route("/<int:task_id>/change-requests")
class TaskChangeRequests(MethodView):
    @roles(Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(TaskChangeRequestCreate)
    @blp.response(201, ChangeRequestSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, task_id):
        """Draft the fix as a change request already linked to the task"""
        ctx = kb()
        view = task_changes.start_change_request(
            ctx.uow(), current_actor(), task_id, now=ctx.now(), kind=body["kind"],
            base_number=if_match_number(body["base_version"], "v"), proposal=body["proposal"],
            reason=body["reason"],
            near_duplicates=lambda q, exclude: ctx.search.near_duplicates(q, ctx.today(), exclude=exclude))
        return view, 201, {"ETag": f'"r{view.revision}"'}


@blp.route("/<int:task_id>/decline")
class Decline(MethodView):
    @roles(Role.MAINTAINER, Role.UNIT_REVIEWER)
    @blp.arguments(DeclineCreate)
    @blp.response(200, TaskSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, task_id):
        """Ask the office to decline the task, with a justification (the unit)"""
        return tasks.request_decline(kb().uow(), current_actor(), task_id, justification=body["justification"],
                                     now=kb().now())


@blp.route("/<int:task_id>/decline-ruling")
class DeclineRuling(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(DeclineRulingCreate)
    @blp.response(200, TaskSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, task_id):
        """Accept the unit's justification (declined) or reject it with a reason (back to work) (office)"""
        return tasks.rule_on_decline(kb().uow(), current_actor(), task_id, accept=body["accept"],
                                     reason=body["reason"], now=kb().now())
