from __future__ import annotations

from flask.views import MethodView

from kb.models import Role
from kb.services import audit
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.common import page_of
from service.schemas.knowledge import AuditEventSchema, AuditQueryArgs

blp = api_blueprint("audit-events", __name__, "审计日志（只增不改）")


@blp.route("")
class AuditEvents(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(AuditQueryArgs, location="query")
    @blp.response(200, page_of(AuditEventSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Read the audit log, newest first (office)"""
        total, items = audit.list_events(kb().reader(), current_actor(), **args)
        return {"total": total, "items": items}
