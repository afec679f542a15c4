"""Yearly verification (校核). Registered under /api/v1: /knowledge/{id}/verify and /verification/due."""
from __future__ import annotations

from flask.views import MethodView

from kb.models import Role
from kb.services import verification
from service.api import if_match_number, kb
from service.api.common import api_blueprint, documented_errors, roles
from service.api.tasks import corrections
from service.auth import current_actor
from service.schemas.tasks import VerificationDueArgs, VerificationDueSchema, VerificationSchema, VerifyCreate

blp = api_blueprint("verification", __name__, "年度校核：每条知识每个周期须更新或校核一次")


@blp.route("/knowledge/<int:entry_id>/verify")
class Verify(MethodView):
    @roles(Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(VerifyCreate)
    @blp.response(200, VerificationSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, entry_id):
        """Verify a published entry unchanged: records when and by whom (unit reviewer of its unit, or office)"""
        return verification.verify(kb().uow(), current_actor(), entry_id, now=kb().now(),
                                   version=if_match_number(body["version"], "v"), note=body["note"])


@blp.route("/verification/due")
class Due(MethodView):
    @roles(Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(VerificationDueArgs, location="query")
    @blp.response(200, VerificationDueSchema)
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Entries neither updated nor verified in the current cycle (own unit; the office any or all)"""
        return verification.list_due(kb().reader(), current_actor(), now=kb().now(),
                                     cycle_months=corrections().cycle_months, unit_code=args.get("unit"),
                                     within_days=args.get("within_days"), limit=args["limit"], offset=args["offset"])
