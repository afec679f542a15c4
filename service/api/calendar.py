from __future__ import annotations

from datetime import date

from flask.views import MethodView

from kb.errors import ValidationFailed
from kb.models import Role
from kb.services import calendar_admin
from service.api import kb
from service.api.common import ANY_ROLE, api_blueprint, documented_errors, roles
from service.api.tasks import corrections
from service.auth import current_actor
from service.schemas.tasks import (
    CalendarQueryArgs, CalendarSchema, ConfirmedYearSchema, DeadlineQueryArgs, DeadlineSchema, OverrideCreate,
    OverrideDeletedSchema, OverrideSchema)

blp = api_blueprint("calendar", __name__, "工作日日历：法定节假日与调休、热线办调整，以及期限计算规则")


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed({"date": f"日期应为 YYYY-MM-DD，收到“{raw}”"}) from None


@blp.route("/overrides")
class Overrides(MethodView):
    @roles(*ANY_ROLE)
    @blp.arguments(CalendarQueryArgs, location="query")
    @blp.response(200, CalendarSchema)
    @documented_errors(blp, 401, 422)
    def get(self, args):
        """The office's overrides (optionally of one year) and the confirmed years"""
        current_actor()
        return calendar_admin.list_overrides(kb().reader(), year=args.get("year"))


@blp.route("/overrides/<string:day>")
class Override(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(OverrideCreate)
    @blp.response(200, OverrideSchema)
    @documented_errors(blp, 401, 403, 422)
    def put(self, body, day):
        """Declare a date a holiday or a working day; open tasks' deadlines are recounted at once (office)"""
        return calendar_admin.set_override(kb().uow(), current_actor(), _day(day), kind=body["kind"],
                                           note=body["note"], now=kb().now(), settings=corrections())

    @blp.response(200, OverrideDeletedSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def delete(self, day):
        """Remove the override of a date; open tasks' deadlines are recounted at once (office)"""
        return calendar_admin.delete_override(kb().uow(), current_actor(), _day(day), now=kb().now(),
                                              settings=corrections())


@blp.route("/years/<int:year>/confirm")
class ConfirmYear(MethodView):
    @blp.response(200, ConfirmedYearSchema)
    @documented_errors(blp, 401, 403, 422)
    def post(self, year):
        """Confirm a year has been entered in full: its deadlines stop being provisional (office)"""
        return calendar_admin.confirm_year(kb().uow(), current_actor(), year, now=kb().now(), settings=corrections())


@blp.route("/deadline")
class DeadlineRule(MethodView):
    @roles(*ANY_ROLE)
    @blp.arguments(DeadlineQueryArgs, location="query")
    @blp.response(200, DeadlineSchema)
    @documented_errors(blp, 401, 422)
    def get(self, args):
        """When something received at `received` is due: `days` working days, or the rule of a task `source`"""
        current_actor()
        return calendar_admin.deadline(kb().reader(), received_at=args["received"], settings=corrections(),
                                       days=args.get("days"), source=args.get("source"),
                                       policy_effective_on=args.get("policy_effective_on"))
