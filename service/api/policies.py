from __future__ import annotations

from flask.views import MethodView

from kb.models import Role
from kb.services import policies
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.api.tasks import corrections
from service.auth import current_actor
from service.schemas.common import page_of
from service.schemas.tasks import PolicyCreate, PolicyQueryArgs, PolicySchema, PolicyStatusCreate, PolicyUpdate

blp = api_blueprint("policies", __name__, "政策文件登记：文号、标题、发文机关、日期、效力状态")


@blp.route("")
class Policies(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(PolicyQueryArgs, location="query")
    @blp.response(200, page_of(PolicySchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List registered policy documents, newest first"""
        total, items = policies.list_policies(kb().reader(), current_actor(), status=args.get("status"),
                                              q=args.get("q"), unit_code=args.get("unit"), limit=args["limit"],
                                              offset=args["offset"])
        return {"total": total, "items": items}

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(PolicyCreate)
    @blp.response(201, PolicySchema)
    @documented_errors(blp, 401, 403, 409, 422)
    def post(self, body):
        """Register a document; with a unit and a date of effect, the unit gets a policy-change task (office)"""
        return policies.register(kb().uow(), current_actor(), now=kb().now(), settings=corrections(), **body)


@blp.route("/<int:policy_id>")
class Policy(MethodView):
    @blp.response(200, PolicySchema)
    @documented_errors(blp, 401, 403, 404)
    def get(self, policy_id):
        """Get a document and the published knowledge citing it"""
        return policies.get_policy(kb().reader(), current_actor(), policy_id)

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(PolicyUpdate)
    @blp.response(200, PolicySchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def patch(self, body, policy_id):
        """Correct the register entry (office)"""
        return policies.update(kb().uow(), current_actor(), policy_id, now=kb().now(), settings=corrections(),
                               fields=body)


@blp.route("/<int:policy_id>/status")
class StatusChange(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(PolicyStatusCreate)
    @blp.response(200, PolicySchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def post(self, body, policy_id):
        """Mark in force, amended or repealed; amended or repealed opens a task on each citing entry, once (office)"""
        return policies.change_status(kb().uow(), current_actor(), policy_id, status=body["status"],
                                      note=body["note"], now=kb().now(), settings=corrections())
