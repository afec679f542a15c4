"""The office's pages: operator flags, the knowledge-gap report, the policy register, synonyms,
calendar overrides, users and units, and an entry's audit log."""
from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from kb.access import ROLE_LABELS
from kb.calendar import to_shanghai
from kb.errors import Conflict, InvalidTransition, KbError, NotFound, ValidationFailed
from kb.models import ChangeRequest, FlagState, PolicyStatus, Role, UnitKind
from kb.services import accounts, audit, calendar_admin, directory, flags, gaps, oversight, policies, search
from service.api.tasks import corrections
from service.web import present
from service.web.blueprint import console, kb_ctx, roles
from service.web.session import current_user

office_only = roles(Role.OFFICE_ADMIN)


def _errors_of(exc: ValidationFailed) -> dict:
    return {k: str(v) for k, v in exc.errors.items()}


def _reason(exc: KbError) -> str:
    """One line saying why an action was refused: the field messages, or the error's own."""
    return "；".join(_errors_of(exc).values()) if isinstance(exc, ValidationFailed) else exc.message


# ---------------------------------------------------------------- operator flags

@console.get("/office/flags")
@office_only
def office_flags():
    state = request.args.get("state", FlagState.PENDING.value)
    state = state if state in {s.value for s in FlagState} else None
    total, rows = flags.list_flags(kb_ctx().reader(), current_user(), state=state, limit=100)
    return render_template("console/office_flags.html", title="话务员反馈", rows=rows, total=total, state=state,
                           states=list(FlagState), errors={}, form_for=None)


@console.post("/office/flags/<int:flag_id>")
@office_only
def triage_flag(flag_id: int):
    ctx = kb_ctx()
    try:
        flags.triage(ctx.uow(), current_user(), flag_id, decision=request.form.get("decision", ""),
                     reason=request.form.get("reason", ""), now=ctx.now(), settings=corrections())
    except ValidationFailed as exc:
        total, rows = flags.list_flags(ctx.reader(), current_user(), state=FlagState.PENDING.value, limit=100)
        return render_template("console/office_flags.html", title="话务员反馈", rows=rows, total=total,
                               state=FlagState.PENDING.value, states=list(FlagState), errors=_errors_of(exc),
                               form_for=flag_id, reason=request.form.get("reason", "")), 422
    except InvalidTransition as exc:
        flash(exc.message, "error")
    else:
        flash("已转交承办单位办理" if request.form.get("decision") == "task" else "已不予采纳，提交人可见理由", "ok")
    return redirect(url_for("console.office_flags"))


# ---------------------------------------------------------------- knowledge gaps

def _gap_days() -> int:
    value = request.values.get("days", "30")
    return int(value) if value.isdigit() and 1 <= int(value) <= 365 else 30


@console.get("/office/gaps")
@office_only
def office_gaps():
    ctx = kb_ctx()
    days = _gap_days()
    ctx.search_log.flush()
    rows = gaps.knowledge_gaps(ctx.reader(), current_user(), since=ctx.now() - timedelta(days=days), now=ctx.now(),
                               limit=100)
    return render_template("console/office_gaps.html", title="知识缺口", rows=rows, days=days,
                           units=directory.list_units(ctx.reader()), errors={}, form_for=None)


@console.post("/office/gaps/tasks")
@office_only
def open_gap_task():
    ctx = kb_ctx()
    days = _gap_days()
    try:
        task = gaps.open_gap_task(ctx.uow(), current_user(), query_key=request.form.get("query_key", ""),
                                  unit_code=request.form.get("unit_code", ""), detail=request.form.get("detail"),
                                  since=ctx.now() - timedelta(days=days), now=ctx.now(), settings=corrections())
    except (ValidationFailed, Conflict, NotFound) as exc:
        flash(exc.message if not isinstance(exc, ValidationFailed) else "；".join(_errors_of(exc).values()), "error")
    else:
        flash(f"已向 {task.unit_name} 开出任务 #{task.id}，期限 {to_shanghai(task.due_at):%Y-%m-%d}", "ok")
    return redirect(url_for("console.office_gaps", days=days))


# ---------------------------------------------------------------- the policy register

@console.route("/office/policies", methods=["GET", "POST"])
@office_only
def office_policies():
    ctx = kb_ctx()
    errors: dict = {}
    values = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in (
            "doc_number", "title", "issuer", "published_on", "effective_on", "unit_code", "note")}
        for key, label in (("doc_number", "文号"), ("title", "标题"), ("issuer", "发文机关"), ("published_on", "发布日期")):
            if not values[key]:
                errors[key] = f"请填写{label}"
        dates = {}
        for key in ("published_on", "effective_on"):
            if values[key]:
                try:
                    dates[key] = date.fromisoformat(values[key])
                except ValueError:
                    errors[key] = "日期格式应为 YYYY-MM-DD"
        if not errors:
            try:
                policies.register(ctx.uow(), current_user(), doc_number=values["doc_number"], title=values["title"],
                                  issuer=values["issuer"], published_on=dates["published_on"],
                                  effective_on=dates.get("effective_on"), unit_code=values["unit_code"] or None,
                                  note=values["note"] or None, now=ctx.now(), settings=corrections())
            except ValidationFailed as exc:
                errors = _errors_of(exc)
            except Conflict as exc:
                errors = {"doc_number": exc.message}
            else:
                flash(f"已登记 {values['doc_number']}", "ok")
                return redirect(url_for("console.office_policies"))
    q = request.args.get("q", "").strip()[:100] or None
    total, rows = policies.list_policies(ctx.reader(), current_user(), q=q, limit=100)
    return render_template("console/office_policies.html", title="政策文件", rows=rows, total=total, q=q or "",
                           errors=errors, values=values, statuses=list(PolicyStatus),
                           units=directory.list_units(ctx.reader())), 422 if errors else 200


@console.post("/office/policies/<int:policy_id>/status")
@office_only
def policy_status(policy_id: int):
    ctx = kb_ctx()
    status = request.form.get("status", "")
    if status not in {s.value for s in PolicyStatus}:
        flash("请选择文件状态", "error")
    else:
        view = policies.change_status(ctx.uow(), current_user(), policy_id, status=status,
                                      note=request.form.get("note") or None, now=ctx.now(), settings=corrections())
        flash(f"{view.doc_number} 已标记为{PolicyStatus(status).label}", "ok")
    return redirect(url_for("console.office_policies"))


# ---------------------------------------------------------------- synonyms

@console.route("/office/synonyms", methods=["GET", "POST"])
@office_only
def office_synonyms():
    ctx = kb_ctx()
    errors: dict = {}
    terms_text = ""
    if request.method == "POST":
        terms_text = request.form.get("terms", "")
        terms = [t for t in (p.strip() for p in terms_text.replace("，", ",").replace("、", ",").split(",")) if t]
        try:
            if len(terms) < 2:
                raise ValidationFailed({"terms": "一组同义词至少两个词，用顿号或逗号分隔"})
            search.create_synonyms(ctx.uow(), current_user(), terms=terms, note=request.form.get("note") or None,
                                   now=ctx.now())
        except ValidationFailed as exc:
            errors = _errors_of(exc)
        except Conflict as exc:
            errors = {"terms": exc.message}
        else:
            flash("已添加同义词组；检索即时生效", "ok")
            return redirect(url_for("console.office_synonyms"))
    groups = search.list_synonyms(ctx.reader(), current_user())
    return render_template("console/office_synonyms.html", title="同义词", groups=groups, errors=errors,
                           terms=terms_text), 422 if errors else 200


@console.post("/office/synonyms/<int:group_id>/delete")
@office_only
def delete_synonyms(group_id: int):
    ctx = kb_ctx()
    search.delete_synonyms(ctx.uow(), current_user(), group_id, ctx.now())
    flash("已删除同义词组", "ok")
    return redirect(url_for("console.office_synonyms"))


# ---------------------------------------------------------------- calendar overrides

@console.route("/office/calendar", methods=["GET", "POST"])
@office_only
def office_calendar():
    ctx = kb_ctx()
    errors: dict = {}
    values = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in ("day", "kind", "note")}
        try:
            day = date.fromisoformat(values["day"])
        except ValueError:
            errors["day"] = "请填写日期，格式 YYYY-MM-DD"
        if values["kind"] not in ("holiday", "working_day"):
            errors["kind"] = "请选择放假或调休上班"
        if not errors:
            try:
                calendar_admin.set_override(ctx.uow(), current_user(), day, kind=values["kind"],
                                            note=values["note"] or None, now=ctx.now(), settings=corrections())
            except ValidationFailed as exc:
                errors = _errors_of(exc)
            else:
                flash(f"{day} 已设为{'放假' if values['kind'] == 'holiday' else '调休上班'}；办理中任务的期限已重新计算", "ok")
                return redirect(url_for("console.office_calendar"))
    overview = calendar_admin.list_overrides(ctx.reader())
    return render_template("console/office_calendar.html", title="工作日历", overview=overview, errors=errors,
                           values=values, now_year=ctx.today().year + 1), 422 if errors else 200


@console.post("/office/calendar/<day>/delete")
@office_only
def delete_calendar_override(day: str):
    ctx = kb_ctx()
    try:
        calendar_admin.delete_override(ctx.uow(), current_user(), date.fromisoformat(day), now=ctx.now(),
                                       settings=corrections())
    except ValueError:
        raise NotFound("日期格式不正确") from None
    flash(f"已删除 {day} 的调整；按国家日历计算", "ok")
    return redirect(url_for("console.office_calendar"))


@console.post("/office/calendar/years/<int:year>/confirm")
@office_only
def confirm_calendar_year(year: int):
    ctx = kb_ctx()
    calendar_admin.confirm_year(ctx.uow(), current_user(), year, now=ctx.now(), settings=corrections())
    flash(f"{year} 年日历已确认；该年的期限不再是暂定", "ok")
    return redirect(url_for("console.office_calendar"))


# ---------------------------------------------------------------- users and units

ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role]


def _users_page(errors: dict | None = None, values: dict | None = None, status: int = 200):
    ctx = kb_ctx()
    users = directory.list_users(ctx.reader(), current_user())
    units = directory.list_units(ctx.reader())
    return render_template("console/office_users.html", title="用户与单位", users=users, units=units,
                           robots=oversight.unit_robots(ctx.reader(), current_user()),
                           roles=ROLE_CHOICES, role_labels={r.value: ROLE_LABELS[r] for r in Role},
                           unit_kinds=list(UnitKind), unit_kind_label=present.unit_kind_label, errors=errors or {},
                           values=values or {}), status


@console.get("/office/users")
@office_only
def office_users():
    return _users_page()


@console.post("/office/users")
@office_only
def create_user():
    ctx = kb_ctx()
    values = {k: request.form.get(k, "").strip() for k in ("name", "role", "unit_code", "username")}
    password = request.form.get("password", "")
    errors = {}
    if not values["name"]:
        errors["name"] = "请填写姓名"
    if values["role"] not in {r.value for r in Role}:
        errors["role"] = "请选择角色"
    if not errors:
        try:
            from service.config import token_ttl
            directory.create_user(ctx.uow(), current_user(), name=values["name"], role=values["role"],
                                  unit_code=values["unit_code"] or None, username=values["username"] or None,
                                  password=password or None, now=ctx.now(), token_ttl=token_ttl(ctx.settings))
        except ValidationFailed as exc:
            errors = _errors_of(exc)
        except (Conflict, NotFound) as exc:
            errors = {"username" if exc.code == "username_taken" else "unit_code": exc.message}
        else:
            flash(f"已创建用户 {values['name']}", "ok")
            return redirect(url_for("console.office_users"))
    return _users_page(errors, values, 422)


@console.post("/office/users/<int:user_id>/password")
@office_only
def reset_password(user_id: int):
    ctx = kb_ctx()
    try:
        accounts.set_credentials(ctx.uow(), current_user(), user_id,
                                 username=request.form.get("username", "").strip() or None,
                                 password=request.form.get("password", ""), now=ctx.now())
    except (ValidationFailed, Conflict) as exc:
        message = _reason(exc)
        flash(f"用户 #{user_id} 的密码未修改：{message}", "error")
    else:
        flash(f"用户 #{user_id} 的密码已重置，其登录已全部退出", "ok")
    return redirect(url_for("console.office_users"))


@console.post("/office/users/<int:user_id>/active")
@office_only
def set_user_active(user_id: int):
    ctx = kb_ctx()
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(ctx.uow(), current_user(), user_id, active=active, now=ctx.now())
    except ValidationFailed as exc:
        flash("；".join(_errors_of(exc).values()), "error")
    else:
        cache = ctx_token_cache()
        if cache is not None:
            cache.clear()  # this process forgets the user's tokens at once
        flash(f"用户 #{user_id} 已{'启用' if active else '停用：其登录和令牌立即失效'}", "ok")
    return redirect(url_for("console.office_users"))


def ctx_token_cache():
    from flask import current_app
    return current_app.extensions.get("kb.token_cache")


@console.post("/office/units")
@office_only
def create_unit():
    ctx = kb_ctx()
    values = {k: request.form.get(k, "").strip() for k in ("code", "name", "kind")}
    try:
        directory.create_unit(ctx.uow(), current_user(), code=values["code"], name=values["name"],
                              kind=values["kind"], parent_code=None, now=ctx.now())
    except (ValidationFailed, Conflict) as exc:
        message = _reason(exc)
        flash(f"单位未创建：{message}", "error")
    else:
        flash(f"已创建单位 {values['name']}", "ok")
    return redirect(url_for("console.office_users"))


@console.post("/office/units/<code>")
@office_only
def update_unit(code: str):
    ctx = kb_ctx()
    changes = {k: request.form.get(k, "").strip() for k in accounts.UNIT_EDITABLE if k in request.form}
    try:
        accounts.update_unit(ctx.uow(), current_user(), code, changes, now=ctx.now())
    except (ValidationFailed, Conflict) as exc:
        message = _reason(exc)
        flash(f"单位 {code} 未修改：{message}", "error")
    else:
        flash(f"单位 {changes.get('code') or code} 已保存", "ok")
    return redirect(url_for("console.office_users"))


# ---------------------------------------------------------------- audit log

@console.get("/office/audit")
@office_only
def office_audit():
    ctx = kb_ctx()
    object_type = request.args.get("object_type", "")
    object_id = request.args.get("object_id", "")
    events: list[audit.AuditEventSnapshot] = []
    if object_type == "entry" and object_id.isdigit():
        entry_id = int(object_id)
        _, events = audit.list_events(ctx.reader(), current_user(), object_type="knowledge_entry",
                                      object_id=entry_id, limit=200)
        with ctx.reader() as uow:
            cr_ids = uow.session.scalars(select(ChangeRequest.id).where(ChangeRequest.entry_id == entry_id)).all()
        for cr_id in cr_ids:
            events += audit.list_events(ctx.reader(), current_user(), object_type="change_request",
                                        object_id=cr_id, limit=200)[1]
        events.sort(key=lambda e: e.id, reverse=True)
        heading = f"知识 #{entry_id} 的操作记录"
    else:
        _, events = audit.list_events(ctx.reader(), current_user(), limit=100)
        heading = "最近的操作记录"
    users = {u.id: u.name for u in directory.list_users(ctx.reader(), current_user())}
    return render_template("console/office_audit.html", title="操作记录", events=events, heading=heading,
                           users=users)
