from __future__ import annotations

from flask.views import MethodView

from kb.services import inbox
from service.api import kb
from service.api.common import api_blueprint, documented_errors
from service.api.tasks import corrections
from service.auth import current_actor
from service.schemas.tasks import InboxSchema

blp = api_blueprint("inbox", __name__, "待办：等我处理的审核、任务和提醒，以及我提交事项的处理结果")


@blp.route("")
class Inbox(MethodView):
    @blp.response(200, InboxSchema)
    @documented_errors(blp, 401, 403)
    def get(self):
        """What needs my action, and what became of what I raised"""
        return inbox.inbox(kb().reader(), current_actor(), now=kb().now(), cycle_months=corrections().cycle_months)
