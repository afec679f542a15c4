"""Standing, the monthly 通报, supervision notices, reminders: oversight pages for units and the office."""
from __future__ import annotations



from flask import Response, current_app, flash, redirect, render_template, request, url_for

from kb import compliance
from kb.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from kb.models import Role
from kb.services import oversight, tasks
from scoring_hooks import bulletin
from scoring_hooks.profiles import get_profile, load_profiles
from scoring_hooks.scoring import score_report
from service import config
from service.web import present
from service.web.blueprint import console, kb_ctx, roles
from service.web.charts import bars, trend
from service.web.session import current_user

UNIT_AND_OFFICE = (Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
TREND_MONTHS = 6


def _profile():
    names = load_profiles()
    name = request.args.get("profile") or current_app.config.get("DEFAULT_PROFILE") or "licheng"
    if name not in names:
        raise NotFound(f"考核方案 {name} 不存在（可用：{'、'.join(names)}）", code="profile_not_found")
    return get_profile(name)


def _period(default: compliance.Period) -> compliance.Period:
    raw = request.args.get("period")
    if not raw:
        return default
    try:
        return compliance.Period.parse(raw)
    except ValueError:
        raise ValidationFailed({"period": "期间格式应为 2026-10、2026-Q4 或 2026"}) from None


def scores_for(period: compliance.Period, profile, unit_codes=None):
    ctx = kb_ctx()
    own = config.scoring_settings(current_app.config.get("SCORING_SETTINGS")).get(profile.name)
    report = compliance.compliance_report(ctx.reader(), current_user(), period, now=ctx.now(),
                                          unit_codes=unit_codes, deadlines=profile.task_deadlines(own))
    return report, score_report(profile, report, own)


def _months_before(period: compliance.Period, count: int) -> list[compliance.Period]:
    months, year, month = [], period.start.year, period.start.month
    for _ in range(count):
        months.append(compliance.Period.parse(f"{year:04d}-{month:02d}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


@console.get("/standing")
@roles(*UNIT_AND_OFFICE)
def standing():
    """A unit's own standing (the office: every unit, ranked), with the evidence behind each deduction."""
    ctx = kb_ctx()
    actor = current_user()
    profile = _profile()
    period = _period(compliance.last_ended_month(ctx.now()))
    unit_code = request.args.get("unit") if actor.is_office else None
    report, scores = scores_for(period, profile, [unit_code] if unit_code else None)
    chart = trend_chart = None
    due = []
    if len(scores) == 1:
        history = []
        for month in _months_before(period, TREND_MONTHS):
            if month.start > ctx.today():
                continue
            _, month_scores = scores_for(month, profile, [scores[0].unit_code])
            history.append((month.label[5:] + "月", month_scores[0].points if month_scores else None))
        trend_chart = trend(history, maximum=scores[0].max_points)
        if not actor.is_office:
            _, due = tasks.list_tasks(ctx.reader(), actor, now=ctx.now(), state="active", limit=10)
    else:
        ranked = sorted(scores, key=lambda s: (-s.points, s.unit_code))
        chart = bars([(s.unit_name, s.points) for s in ranked], maximum=max((s.max_points for s in scores), default=1))
    notices = oversight.list_notices(ctx.reader(), actor, unconfirmed=True) if not actor.is_office else []
    return render_template("console/standing.html", title="考核情况", profile=profile, profiles=load_profiles(),
                           period=period, report=report, scores=scores, chart=chart, trend_chart=trend_chart,
                           due=due, notices=notices, unit_code=unit_code)


@console.get("/office/bulletin")
@roles(Role.OFFICE_ADMIN)
def office_bulletin():
    """The monthly 通报 of a closed month: frozen figures only; printable, or as xlsx."""
    ctx = kb_ctx()
    profile = _profile()
    period = _period(compliance.last_ended_month(ctx.now()))
    report, scores = scores_for(period, profile)
    if not report.frozen:
        raise InvalidTransition(f"{period.label} 尚未结账，不能出通报：月结后数据冻结，通报只用冻结的数据",
                                code="period_not_closed")
    previous_period = _months_before(period, 2)[0]
    _, previous = scores_for(previous_period, profile)
    rows = bulletin.rows(scores, report, previous)
    title = f"12345热线智能化知识库维护情况通报（{period.start.year}年{period.start.month}月）"
    if request.args.get("format") == "xlsx":
        response = Response(bulletin.to_workbook(rows, f"{period.label}通报"),
                            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response.headers["Content-Disposition"] = f'attachment; filename="bulletin-{period.label}.xlsx"'
        return response
    chart = bars([(r.unit_name, r.points) for r in rows], maximum=max((r.max_points for r in rows), default=1))
    from datetime import datetime, time, timedelta

    from kb.calendar import SHANGHAI
    direct = oversight.direct_answer_rate(
        ctx.reader(), current_user(), start=datetime.combine(period.start, time.min, SHANGHAI),
        end=datetime.combine(period.end + timedelta(days=1), time.min, SHANGHAI), label=period.label)
    return render_template("console/bulletin.html", title=title, rows=rows, period=period, profile=profile,
                           profiles=load_profiles(), report=report, chart=chart, previous_period=previous_period,
                           direct=direct)


# ---------------------------------------------------------------- supervision notices

@console.get("/notices")
@roles(*UNIT_AND_OFFICE)
def notices():
    rows = oversight.list_notices(kb_ctx().reader(), current_user())
    return render_template("console/notices.html", title="督办通知", rows=rows,
                           outcome_label=present.notice_outcome_label)


@console.get("/notices/<int:notice_id>")
@roles(*UNIT_AND_OFFICE)
def notice_page(notice_id: int):
    notice = oversight.get_notice(kb_ctx().reader(), current_user(), notice_id)
    return render_template("console/notice.html", title=f"督办通知 {notice.number}", notice=notice,
                           outcome_label=present.notice_outcome_label)


@console.post("/tasks/<int:task_id>/notice")
@roles(Role.OFFICE_ADMIN)
def issue_notice(task_id: int):
    ctx = kb_ctx()
    try:
        notice = oversight.issue_notice(ctx.uow(), current_user(), task_id, now=ctx.now())
    except (InvalidTransition, Conflict) as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.task_page", task_id=task_id))
    flash(f"已下达督办通知 {notice.number}", "ok")
    return redirect(url_for("console.notice_page", notice_id=notice.id))


@console.post("/notices/<int:notice_id>/confirm")
@roles(Role.MAINTAINER, Role.UNIT_REVIEWER)
def confirm_notice(notice_id: int):
    ctx = kb_ctx()
    try:
        oversight.confirm_notice(ctx.uow(), current_user(), notice_id, reply=request.form.get("reply"), now=ctx.now())
    except InvalidTransition as exc:
        flash(exc.message, "error")
    else:
        flash("已签收督办通知", "ok")
    return redirect(url_for("console.notice_page", notice_id=notice_id))


# ---------------------------------------------------------------- reminders

@console.route("/account/reminders", methods=["GET", "POST"])
def my_reminders():
    ctx = kb_ctx()
    errors = {}
    if request.method == "POST":
        try:
            oversight.set_contact(ctx.uow(), current_user(), email=request.form.get("email"),
                                  notify=request.form.get("notify") == "on",
                                  daily_digest=request.form.get("daily_digest") == "on", now=ctx.now())
        except ValidationFailed as exc:
            errors = {k: str(v) for k, v in exc.errors.items()}
        else:
            flash("提醒设置已保存", "ok")
            return redirect(url_for("console.my_reminders"))
        contact = {"email": request.form.get("email", ""), "notify": request.form.get("notify") == "on",
                   "daily_digest": request.form.get("daily_digest") == "on"}
    else:
        contact = oversight.get_contact(ctx.reader(), current_user())
    return render_template("console/reminders.html", title="提醒设置", contact=contact, errors=errors), \
        422 if errors else 200


@console.get("/office/notifications")
@roles(Role.OFFICE_ADMIN)
def office_notifications():
    rows = oversight.list_notifications(kb_ctx().reader(), current_user(),
                                        waiting_only=request.args.get("waiting") == "1")
    return render_template("console/office_notifications.html", title="提醒记录", rows=rows,
                           waiting=request.args.get("waiting") == "1")


@console.post("/office/notifications/<int:notification_id>/replay")
@roles(Role.OFFICE_ADMIN)
def replay_notification(notification_id: int):
    ctx = kb_ctx()
    oversight.replay(ctx.uow(), current_user(), notification_id, now=ctx.now())
    flash(f"提醒 #{notification_id} 将重新发送", "ok")
    return redirect(url_for("console.office_notifications"))


@console.post("/office/units/<code>/robot")
@roles(Role.OFFICE_ADMIN)
def set_robot(code: str):
    ctx = kb_ctx()
    try:
        oversight.set_unit_robot(ctx.uow(), current_user(), code, channel=request.form.get("channel") or None,
                                 url=request.form.get("url"), secret=request.form.get("secret"), now=ctx.now(),
                                 secret_box=current_app.extensions["kb.settings"].secret_box)
    except ValidationFailed as exc:
        flash(f"单位 {code} 的群机器人未保存：" + "；".join(map(str, exc.errors.values())), "error")
    else:
        flash(f"单位 {code} 的群机器人已保存", "ok")
    return redirect(url_for("console.office_users"))



