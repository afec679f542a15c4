"""Supervision notices (督办通知), reminder preferences, units' group robots, and the reminders sent."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from kb.models import Role
from kb.services import oversight
from service.api import kb
from service.api.common import ANY_ROLE, api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.common import page, page_of
from service.schemas.oversight import (
    ContactSchema, ContactUpdate, NoticeConfirm, NoticeCreate, NoticeQueryArgs, NoticeSchema, NotificationQueryArgs,
    NotificationSchema, RobotSchema, RobotUpdate)

blp = api_blueprint("notices", __name__, "督办通知：超期任务的编号督办通知，承办单位签收")
notifications_blp = api_blueprint("notifications", __name__, "提醒：邮件、企业微信和钉钉群机器人的发送记录")
preferences_blp = api_blueprint("preferences", __name__, "提醒设置：本人邮箱与方式、单位群机器人")


@blp.route("")
class Notices(MethodView):
    @roles(Role.OFFICE_ADMIN, Role.MAINTAINER, Role.UNIT_REVIEWER)
    @blp.arguments(NoticeQueryArgs, location="query")
    @blp.response(200, page_of(NoticeSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List supervision notices, newest first ({items, total}; the office all, a unit its own)"""
        return page(oversight.list_notices(kb().reader(), current_actor(), year=args.get("year"),
                                           unconfirmed=args["unconfirmed"]), args)

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(NoticeCreate)
    @blp.response(201, NoticeSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body):
        """Issue a numbered notice for an overdue task (office)"""
        return oversight.issue_notice(kb().uow(), current_actor(), body["task_id"], now=kb().now())


@blp.route("/<int:notice_id>")
class Notice(MethodView):
    @blp.response(200, NoticeSchema)
    @documented_errors(blp, 401, 403, 404)
    def get(self, notice_id):
        """One notice"""
        return oversight.get_notice(kb().reader(), current_actor(), notice_id)


@blp.route("/<int:notice_id>/confirm")
class ConfirmNotice(MethodView):
    @roles(Role.MAINTAINER, Role.UNIT_REVIEWER)
    @blp.arguments(NoticeConfirm)
    @blp.response(200, NoticeSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def post(self, body, notice_id):
        """The unit confirms receipt, with a word on the outcome (once)"""
        return oversight.confirm_notice(kb().uow(), current_actor(), notice_id, reply=body["reply"], now=kb().now())


@notifications_blp.route("")
class Notifications(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @notifications_blp.arguments(NotificationQueryArgs, location="query")
    @notifications_blp.response(200, page_of(NotificationSchema))
    @documented_errors(notifications_blp, 401, 403, 422)
    def get(self, args):
        """Reminders queued and sent, newest first ({items, total}; office)"""
        rows = oversight.list_notifications(kb().reader(), current_actor(), waiting_only=args["waiting"],
                                            limit=args["offset"] + args["limit"])
        return {"total": len(rows), "items": rows[args["offset"]:]}


@notifications_blp.route("/<int:notification_id>/replay")
class Replay(MethodView):
    @notifications_blp.response(200, NotificationSchema)
    @documented_errors(notifications_blp, 401, 403, 404)
    def post(self, notification_id):
        """Send a reminder again (office)"""
        return oversight.replay(kb().uow(), current_actor(), notification_id, now=kb().now())


@preferences_blp.route("/contact")
class Contact(MethodView):
    @preferences_blp.response(200, ContactSchema)
    @documented_errors(preferences_blp, 401)
    def get(self):
        """My e-mail address and how I want reminders"""
        return oversight.get_contact(kb().reader(), current_actor())

    @roles(*ANY_ROLE)
    @preferences_blp.arguments(ContactUpdate)
    @preferences_blp.response(200, ContactSchema)
    @documented_errors(preferences_blp, 401, 422)
    def put(self, body):
        """Set my e-mail address and how I want reminders (at once or one daily digest)"""
        return oversight.set_contact(kb().uow(), current_actor(), now=kb().now(), **body)


@preferences_blp.route("/units/<string:unit_code>/robot")
class Robot(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @preferences_blp.arguments(RobotUpdate)
    @preferences_blp.response(200, RobotSchema)
    @documented_errors(preferences_blp, 401, 403, 404, 422)
    def put(self, body, unit_code):
        """Set a unit's group robot (企业微信 / 钉钉); channel null removes it (office)"""
        view = oversight.set_unit_robot(kb().uow(), current_actor(), unit_code, now=kb().now(),
                                        secret_box=current_app.extensions["kb.settings"].secret_box, **body)
        return view or oversight.RobotSnapshot(unit_code=unit_code, channel=None, url=None, signed=False)
