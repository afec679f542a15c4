from __future__ import annotations

from flask.views import MethodView

from kb.models import Role
from kb.services import changes
from service.api import if_match_number, kb
from service.api.common import api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.common import page_of
from service.schemas.knowledge import (
    ChangeRequestCreate, ChangeRequestQueryArgs, ChangeRequestSchema, ChangeRequestUpdate, OfficeReviewCreate,
    RevisionArgs, UnitReviewCreate)

blp = api_blueprint("change-requests", __name__, "变更申请：采集 → 单位审核 → 热线办发布")


def _near_duplicates():
    ctx = kb()
    return lambda question, exclude: ctx.search.near_duplicates(question, ctx.today(), exclude=exclude)


def _with_etag(view: changes.ChangeRequestSnapshot):
    return view, 200, {"ETag": f'"r{view.revision}"'}


@blp.route("")
class ChangeRequests(MethodView):
    @roles(Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(ChangeRequestQueryArgs, location="query")
    @blp.response(200, page_of(ChangeRequestSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List change requests (own unit; the office sees all)"""
        total, items = changes.list_for(kb().reader(), current_actor(), state=args.get("state"),
                                        unit_code=args.get("unit"), kind=args.get("kind"),
                                        limit=args["limit"], offset=args["offset"])
        return {"total": total, "items": items}

    @roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
    @blp.arguments(ChangeRequestCreate)
    @blp.response(201, ChangeRequestSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422, 428)
    def post(self, body):
        """Create a draft: new knowledge, a modification, a deletion, a revocation or a suggestion"""
        view = changes.create(
            kb().uow(), current_actor(), kind=body["kind"], now=kb().now(), entry_id=body["entry_id"],
            base_number=if_match_number(body["base_version"], "v"), proposal=body["proposal"],
            reason=body["reason"], unit_code=body["unit_code"], near_duplicates=_near_duplicates())
        return view, 201, {"ETag": f'"r{view.revision}"'}


@blp.route("/<int:cr_id>")
class ChangeRequest(MethodView):
    @blp.response(200, ChangeRequestSchema)
    @documented_errors(blp, 401, 403, 404)
    def get(self, cr_id):
        """Get a change request with its reviews and submission warnings"""
        return _with_etag(changes.get(kb().reader(), current_actor(), cr_id, _near_duplicates()))

    @roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
    @blp.arguments(ChangeRequestUpdate)
    @blp.response(200, ChangeRequestSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422, 428)
    def patch(self, body, cr_id):
        """Edit a draft or a returned request, naming its revision (body or If-Match); stale is 409, none 428"""
        return _with_etag(changes.edit(
            kb().uow(), current_actor(), cr_id, revision=if_match_number(body.get("revision"), "r"),
            now=kb().now(), proposal=body.get("proposal"), reason=body.get("reason"),
            near_duplicates=_near_duplicates()))


@blp.route("/<int:cr_id>/submit")
class Submit(MethodView):
    @roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
    @blp.arguments(RevisionArgs)
    @blp.response(200, ChangeRequestSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, cr_id):
        """Send to the unit reviewer"""
        return _with_etag(changes.submit(kb().uow(), current_actor(), cr_id,
                                         revision=if_match_number(body["revision"], "r"), now=kb().now()))


@blp.route("/<int:cr_id>/unit-review")
class UnitReview(MethodView):
    @roles(Role.UNIT_REVIEWER)
    @blp.arguments(UnitReviewCreate)
    @blp.response(200, ChangeRequestSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, cr_id):
        """Unit reviewer's decision, with the four checks of Art. 9 one by one"""
        return _with_etag(changes.unit_review(
            kb().uow(), current_actor(), cr_id, approve=body["approve"], checks=body["checks"],
            reason=body["reason"], revision=if_match_number(body["revision"], "r"), now=kb().now(),
            amendments=body["amendments"]))


@blp.route("/<int:cr_id>/office-review")
class OfficeReview(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(OfficeReviewCreate)
    @blp.response(200, ChangeRequestSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, cr_id):
        """Office publishes or returns; urgent knowledge may be published directly"""
        view = changes.office_review(
            kb().uow(), current_actor(), cr_id, decision=body["decision"], reason=body["reason"],
            revision=if_match_number(body["revision"], "r"), now=kb().now())
        if kb().search is not None:
            kb().search.catch_up()  # the publisher sees it on their very next search
        return _with_etag(view)


@blp.route("/<int:cr_id>/cancel")
class Cancel(MethodView):
    @roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
    @blp.arguments(RevisionArgs)
    @blp.response(200, ChangeRequestSchema)
    @documented_errors(blp, 401, 403, 404, 409)
    def post(self, body, cr_id):
        """Withdraw a draft or returned request"""
        return _with_etag(changes.cancel(kb().uow(), current_actor(), cr_id,
                                         revision=if_match_number(body["revision"], "r"), now=kb().now()))
