"""Unit maintainers and reviewers, and the office's publish queue: the collect → review → publish loop.

Every action calls the same kb use case as the API; a form error is shown beside its field and
the text typed stays in the form; a stale edit shows the current version and keeps the user's text.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from kb.errors import NotFound, PreconditionRequired, StaleVersion, ValidationFailed
from kb.models import ChangeKind, Role, Unit
from kb.proposal import Proposal
from kb.services import attachments, categories, changes, directory, knowledge, search, task_changes, tasks
from kb.services.changes import ChangeRequestSnapshot
from kb.workflow import Check, State
from service.field_messages import translate
from service.schemas.knowledge import ContentFields
from service.web.blueprint import console, kb_ctx, roles
from service.web.session import current_user

UNIT_ROLES = (Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
DIFF_FIELDS = (("question", "问题"), ("similar_questions", "相似问法"), ("answer", "答案"), ("keywords", "关键词"),
               ("category_id", "分类"), ("policy_title", "依据文件"), ("policy_number", "文号"),
               ("policy_attachments", "附件数"), ("effective_on", "生效日期"), ("expires_on", "失效日期"),
               ("urgent", "紧急"), ("format", "形式"))
_content = ContentFields()


def _near_duplicates():
    ctx = kb_ctx()
    return lambda question, exclude: ctx.search.near_duplicates(question, ctx.today(), exclude=exclude)


def _my_unit_code() -> str | None:
    actor = current_user()
    if actor.unit_id is None:
        return None
    with kb_ctx().reader() as uow:
        return uow.session.get(Unit, actor.unit_id).code


def _category_choices() -> list[tuple[int, str]]:
    """Every category as its path (社会民生 / 社会保障), for the picker."""
    rows = categories.list_categories(kb_ctx().reader())
    by_id = {c.id: c for c in rows}

    def path(c):
        names = []
        while c is not None:
            names.append(c.name)
            c = by_id.get(c.parent_id)
        return " / ".join(reversed(names))
    return sorted(((c.id, path(c)) for c in rows), key=lambda pair: pair[1])


def _units() -> list[directory.UnitSnapshot]:
    return directory.list_units(kb_ctx().reader())


def _form_proposal(form) -> tuple[Proposal, dict]:
    """The proposal typed in the form, typed as the API's schema types it, and the field errors."""
    raw = {
        "question": form.get("question", "").strip(),
        "similar_questions": [line.strip() for line in form.get("similar_questions", "").splitlines() if line.strip()],
        "answer": form.get("answer", "").strip(),
        "keywords": [w for w in (part.strip() for part in
                                 form.get("keywords", "").replace("，", ",").replace("、", ",").split(",")) if w],
        "category_id": form.get("category_id") or None,
        "policy_title": form.get("policy_title", "").strip() or None,
        "policy_number": form.get("policy_number", "").strip() or None,
        "policy_attachments": form.get("policy_attachments") or 0,
        "effective_on": form.get("effective_on") or None,
        "expires_on": form.get("expires_on") or None,
        "urgent": form.get("urgent") == "on",
        "format": form.get("format") or "qa",
    }
    # Empty optional values are left out, as an API caller would leave them out.
    raw = {k: v for k, v in raw.items() if v not in (None, "", []) or k in ("expires_on",)}
    if raw.get("expires_on") is None:
        raw.pop("expires_on", None)
    try:
        return _content.load(raw), {}
    except ValidationError as exc:
        errors = translate(exc.messages)
        return Proposal(), {k: (v if isinstance(v, str) else "；".join(map(str, v if isinstance(v, list) else v.values())))
                    for k, v in errors.items()}


def _form_values(form) -> dict:
    return {key: form.get(key, "") for key in (
        "question", "similar_questions", "answer", "keywords", "category_id", "policy_title", "policy_number",
        "policy_attachments", "effective_on", "expires_on", "format", "reason", "urgent", "unit_code")}


def _values_of(proposal: Mapping[str, Any]) -> dict:
    """The fields of a proposal as form values."""
    values = {k: ("" if v is None else v) for k, v in proposal.items()}
    values["similar_questions"] = "\n".join(proposal.get("similar_questions") or [])
    values["keywords"] = "、".join(proposal.get("keywords") or [])
    values["urgent"] = "on" if proposal.get("urgent") else ""
    for key in ("effective_on", "expires_on"):
        values[key] = str(proposal[key]) if proposal.get(key) else ""
    return values


# ---------------------------------------------------------------- lists

@console.get("/unit/knowledge")
@roles(*UNIT_ROLES)
def unit_knowledge():
    ctx = kb_ctx()
    actor = current_user()
    unit_code = request.args.get("unit") if actor.is_office else _my_unit_code()
    q = request.args.get("q", "").strip()[:200]
    page = max(1, min(500, int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1))
    if q:
        result = search.search(ctx.search, ctx.search_log, actor, text=q, today=ctx.today(), now=ctx.now(),
                               unit_codes=(unit_code,) if unit_code else (), offset=(page - 1) * 20, limit=20)
        # The table's rows, as list_published's entries read: the hit's stored document and its id.
        total, rows = result.total, [{"id": h.entry_id, **h.document} for h in result.hits]
    else:
        total, rows = knowledge.list_published(ctx.reader(), actor, today=ctx.today(), unit_code=unit_code,
                                               include_withdrawn=True, limit=20, offset=(page - 1) * 20)
    return render_template("console/unit_knowledge.html", title="本单位知识" if not actor.is_office else "知识",
                           rows=rows, total=total, q=q, page=page, unit_code=unit_code,
                           units=_units() if actor.is_office else None)


def _change_list(template: str, title: str, *, state: str | None, heading: str):
    ctx = kb_ctx()
    actor = current_user()
    state = request.args.get("state", state) or None
    if state and state not in {s.value for s in State}:
        state = None
    total, rows = changes.list_for(ctx.reader(), actor, state=state, limit=100)
    return render_template(template, title=title, rows=rows, total=total, state=state, heading=heading,
                           states=list(State))


@console.get("/changes")
@roles(*UNIT_ROLES)
def my_changes():
    return _change_list("console/changes.html", "我的申请", state=None, heading="本单位的变更申请")


@console.get("/review")
@roles(Role.UNIT_REVIEWER)
def review_queue():
    return _change_list("console/changes.html", "待审核", state=State.UNIT_REVIEW.value, heading="待单位审核")


@console.get("/publish")
@roles(Role.OFFICE_ADMIN)
def publish_queue():
    return _change_list("console/changes.html", "待发布", state=State.OFFICE_REVIEW.value, heading="待热线办发布")


# ---------------------------------------------------------------- create and edit

@console.route("/changes/new", methods=["GET", "POST"])
@roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
def new_change():
    ctx = kb_ctx()
    actor = current_user()
    kind = request.values.get("kind", "new")
    if kind not in {k.value for k in ChangeKind}:
        kind = "new"
    entry = None
    entry_id = request.values.get("entry_id", "")
    if kind != "new":
        if not entry_id.isdigit():
            raise NotFound("请从一条知识的页面提出修改、删除或撤销")
        entry = knowledge.get_entry(ctx.reader(), actor, int(entry_id), today=ctx.today())
    task_id = request.values.get("task_id", "")
    errors: dict = {}
    if request.method == "POST":
        proposal, errors = _form_proposal(request.form) if ChangeKind(kind).carries_content else (Proposal(), {})
        reason = request.form.get("reason", "").strip() or None
        if kind in ("delete", "revoke") and not reason:
            errors["reason"] = "请写明原因"
        if not errors:
            if entry is not None and kind == "modify":  # only what changed, as the API's modify takes it
                proposal = proposal.changed_from(entry.content)
            try:
                base = int(request.form["base_version"]) if request.form.get("base_version", "").isdigit() else None
                if task_id.isdigit():
                    view = task_changes.start_change_request(
                        ctx.uow(), actor, int(task_id), now=ctx.now(), kind=kind, base_number=base,
                        proposal=proposal or None, reason=reason, near_duplicates=_near_duplicates())
                else:
                    view = changes.create(
                        ctx.uow(), actor, kind=kind, now=ctx.now(), entry_id=entry.id if entry else None,
                        base_number=base, proposal=proposal or None, reason=reason,
                        unit_code=(request.form.get("unit_code") or None) if actor.is_office and not entry else None,
                        near_duplicates=_near_duplicates())
            except ValidationFailed as exc:
                errors = {k: str(v) for k, v in exc.errors.items()}
            except (StaleVersion, PreconditionRequired) as exc:
                errors = {"base_version": exc.message}
            else:
                return _after_save(view, submit=request.form.get("then") == "submit")
        values = _form_values(request.form)
        status = 409 if "base_version" in errors else 422
    else:
        values = _values_of(entry.content.fields()) if entry is not None and kind == "modify" else {"format": "qa"}
        status = 200
    return render_template("console/change_form.html", title="新增知识" if kind == "new" else "提出变更",
                           kind=kind, kind_label=ChangeKind(kind).label, entry=entry, values=values, errors=errors,
                           categories=_category_choices(), units=_units() if actor.is_office else None,
                           base_version=entry.version if entry else None, cr=None, task_id=task_id), status


def _after_save(view: ChangeRequestSnapshot, *, submit: bool):
    ctx = kb_ctx()
    if view.warnings:
        flash("已保存。请留意提示：" + "；".join(w.message for w in view.warnings), "warning")
    else:
        flash("已保存为草稿", "ok")
    if submit:
        try:
            changes.submit(ctx.uow(), current_user(), view.id, revision=view.revision, now=ctx.now())
        except ValidationFailed as exc:
            # Saved as a draft; what submission still needs is shown beside its fields, the text kept.
            flash("已保存为草稿，但还不能提交审核：请补全标出的项目", "error")
            kind = ChangeKind(view.kind)
            return render_template(
                "console/change_form.html", title=f"编辑申请 #{view.id}", kind=kind.value, kind_label=kind.label,
                entry=None, values=_form_values(request.form), errors={k: str(v) for k, v in exc.errors.items()},
                categories=_category_choices(), units=None, base_version=view.base_version, cr=view,
                stale=None, task_id="", action=url_for("console.edit_change", cr_id=view.id)), 422
        flash("已提交单位审核", "ok")
    return redirect(url_for("console.change_page", cr_id=view.id))


@console.route("/changes/<int:cr_id>/edit", methods=["GET", "POST"])
@roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
def edit_change(cr_id: int):
    ctx = kb_ctx()
    actor = current_user()
    cr = changes.get(ctx.reader(), actor, cr_id)
    kind = ChangeKind(cr.kind)
    errors: dict = {}
    stale = None
    if request.method == "POST":
        proposal, errors = _form_proposal(request.form) if kind.carries_content else (Proposal(), {})
        revision = request.form.get("revision", "")
        if not errors:
            try:
                view = changes.edit(ctx.uow(), actor, cr_id, revision=int(revision) if revision.isdigit() else None,
                                    now=ctx.now(), proposal=proposal or None,
                                    reason=request.form.get("reason", "").strip() or None,
                                    near_duplicates=_near_duplicates())
            except ValidationFailed as exc:
                errors = {k: str(v) for k, v in exc.errors.items()}
            except StaleVersion:
                stale = changes.get(ctx.reader(), actor, cr_id)  # the version saved meanwhile, shown beside
            else:
                return _after_save(view, submit=request.form.get("then") == "submit")
        values = _form_values(request.form)
        status = 409 if stale else 422
    else:
        values = {**_values_of(cr.proposal.fields()), "reason": cr.reason or ""}
        status = 200
    return render_template("console/change_form.html", title=f"编辑申请 #{cr_id}", kind=kind.value,
                           kind_label=kind.label, entry=None, values=values, errors=errors,
                           categories=_category_choices(), units=None, base_version=cr.base_version, cr=cr,
                           stale=stale, task_id=""), status


# ---------------------------------------------------------------- one change request

def _diff_rows(cr: ChangeRequestSnapshot, live: knowledge.EntrySnapshot | None) -> list[dict]:
    names = dict(_category_choices())
    proposal, content = cr.proposal, live.content if live else None
    rows = []
    for field, label in DIFF_FIELDS:
        proposed = proposal.value(field)
        current = content.value(field) if content else None
        if proposed is None and not live:
            continue
        shown = proposed if proposal.names(field) else current
        rows.append({"label": label, "current": _show(field, current, names) if live else "",
                     "proposed": _show(field, shown, names),
                     "changed": live is not None and proposal.names(field) and proposed != current})
    return rows


def _show(field: str, value, names) -> str:
    if value is None or value == "" or value == []:
        return ""
    if field == "category_id":
        return names.get(value, str(value))
    if isinstance(value, (list, tuple)):
        return "\n".join(map(str, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "format":
        return {"qa": "一问一答", "document": "其他形式（文件）"}.get(value, value)
    return str(value)


@console.get("/changes/<int:cr_id>")
@roles(*UNIT_ROLES)
def change_page(cr_id: int):
    return _render_change(cr_id)


def _render_change(cr_id: int, *, errors: dict | None = None, reason: str | None = None,
                   ticked: dict | None = None):
    """The change request beside its live version, with its files; errors of a review sent back, if any."""
    ctx = kb_ctx()
    actor = current_user()
    cr = changes.get(ctx.reader(), actor, cr_id, _near_duplicates())
    live = None
    if cr.entry_id:
        try:
            live = knowledge.get_entry(ctx.reader(), actor, cr.entry_id, today=ctx.today())
        except NotFound:
            live = None
    files = attachments.list_for_change_request(ctx.reader(), actor, cr_id)
    page = render_template("console/change.html", title=f"申请 #{cr_id}", cr=cr, live=live,
                           diff=_diff_rows(cr, live), checks=list(Check), errors=errors, reason=reason or "",
                           ticked=ticked, files=files)
    return (page, 422) if errors else page


@console.post("/changes/<int:cr_id>/<any(submit, cancel):action>")
@roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
def move_change(cr_id: int, action: str):
    ctx = kb_ctx()
    revision = request.form.get("revision", "")
    use_case = changes.submit if action == "submit" else changes.cancel
    try:
        use_case(ctx.uow(), current_user(), cr_id, revision=int(revision) if revision.isdigit() else None,
                 now=ctx.now())
    except ValidationFailed as exc:
        flash("未能提交：" + "；".join(map(str, exc.errors.values())), "error")
    except StaleVersion as exc:
        flash(exc.message, "error")
    else:
        flash("已提交单位审核" if action == "submit" else "申请已撤回", "ok")
    return redirect(url_for("console.change_page", cr_id=cr_id))


@console.post("/changes/<int:cr_id>/unit-review")
@roles(Role.UNIT_REVIEWER)
def unit_review(cr_id: int):
    ctx = kb_ctx()
    checks = {c.value: request.form.get(f"check_{c.value}") == "on" for c in Check}
    approve = request.form.get("decision") == "approve"
    reason = request.form.get("reason", "").strip() or None
    revision = request.form.get("revision", "")
    errors = {}
    if approve and not all(checks.values()):
        errors["checks"] = "四项审核全部通过才能同意；未通过的项请退回并写明原因"
    if not approve and not reason and all(checks.values()):
        errors["reason"] = "退回须写明原因，或取消勾选未通过的审核项"
    if not errors:
        try:
            changes.unit_review(ctx.uow(), current_user(), cr_id, approve=approve, checks=checks, reason=reason,
                                revision=int(revision) if revision.isdigit() else None, now=ctx.now())
        except ValidationFailed as exc:
            errors = {k: str(v) for k, v in exc.errors.items()}
        except StaleVersion as exc:
            flash(exc.message, "error")
            return redirect(url_for("console.change_page", cr_id=cr_id))
        else:
            flash("审核通过，已报热线办" if approve else "已退回单位知识员", "ok")
            return redirect(url_for("console.review_queue"))
    return _render_change(cr_id, errors=errors, reason=reason, ticked=checks)


@console.post("/changes/<int:cr_id>/office-review")
@roles(Role.OFFICE_ADMIN)
def office_review(cr_id: int):
    ctx = kb_ctx()
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "").strip() or None
    revision = request.form.get("revision", "")
    errors = {}
    if decision not in ("publish", "return"):
        errors["decision"] = "请选择发布或退回"
    elif decision == "return" and not reason:
        errors["reason"] = "退回须写明原因"
    if not errors:
        try:
            view = changes.office_review(ctx.uow(), current_user(), cr_id, decision=decision, reason=reason,
                                         revision=int(revision) if revision.isdigit() else None, now=ctx.now())
        except ValidationFailed as exc:
            errors = {k: str(v) for k, v in exc.errors.items()}
        except StaleVersion as exc:
            flash(exc.message, "error")
            return redirect(url_for("console.change_page", cr_id=cr_id))
        else:
            if decision == "publish":
                ctx.search.catch_up()  # the publisher's host serves it from the next search on, as the API's does
            if decision == "publish" and view.entry_id:
                flash(f"已发布：知识 #{view.entry_id} 第 {view.published_version} 版", "ok")
            else:
                flash("已退回", "ok")
            return redirect(url_for("console.publish_queue"))
    return _render_change(cr_id, errors=errors, reason=reason)


# ---------------------------------------------------------------- tasks

@console.get("/tasks")
@roles(*UNIT_ROLES)
def unit_tasks():
    ctx = kb_ctx()
    actor = current_user()
    state = request.args.get("state", "active")
    unit_code = (request.args.get("unit") or None) if actor.is_office else None
    overdue = True if request.args.get("overdue") == "1" else None
    total, rows = tasks.list_tasks(ctx.reader(), actor, now=ctx.now(), state=state if state != "all" else None,
                                   unit_code=unit_code, overdue=overdue, limit=100)
    with ctx.reader() as uow:  # due within one working day: the same horizon as the reminder job's
        horizon = tasks.due_soon_horizon(tasks.load_calendar(uow.session), ctx.now())
    due_soon = {t.id for t in rows if t.outcome == "open" and t.due_at <= horizon}
    return render_template("console/tasks.html", title="纠错任务", rows=rows, due_soon=due_soon, total=total, state=state,
                           unit_code=unit_code, overdue=overdue, units=_units() if actor.is_office else None)


@console.get("/tasks/<int:task_id>")
@roles(*UNIT_ROLES)
def task_page(task_id: int):
    ctx = kb_ctx()
    task = tasks.get_task(ctx.reader(), current_user(), task_id, now=ctx.now())
    return render_template("console/task.html", title=f"任务 #{task_id}", task=task)
