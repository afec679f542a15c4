"""The operator's page for a live call: search as you type, open, copy, "used this answer", flag."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, jsonify, redirect, render_template, request, url_for

from kb.errors import KbError, ValidationFailed
from kb.models import FlagKind, Role
from kb.services import attachments, flags, knowledge, search
from service.web.blueprint import console, kb_ctx, roles
from service.web.session import current_user

SEARCHERS = (Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
PER_PAGE = 10


def _search(text: str, *, mode: str = "query", page: int = 1) -> search.SearchPage | None:
    if not text.strip():
        return None
    ctx = kb_ctx()
    return search.search(ctx.search, ctx.search_log, current_user(), text=text, today=ctx.today(), now=ctx.now(),
                         offset=(page - 1) * PER_PAGE, limit=PER_PAGE, mode=mode)


def _hot() -> list[search.HotEntrySnapshot]:
    ctx = kb_ctx()
    return search.hot_knowledge(ctx.reader(), current_user(), since=ctx.now() - timedelta(days=7),
                                today=ctx.today(), limit=10)


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) <= 500 else 1


@console.get("/search", endpoint="search")
@roles(*SEARCHERS)
def search_page():
    q = request.args.get("q", "")[:200]
    page = _page_number()
    return render_template("console/search.html", title="知识检索", q=q, result=_search(q, page=page), page=page,
                           hot=_hot())


@console.get("/search/results")
@roles(*SEARCHERS)
def search_results():
    """The results list alone, drawn into the search page as the operator types."""
    q = request.args.get("q", "")[:200]
    page = _page_number()
    return render_template("console/_hits.html", q=q, result=_search(q, page=page), page=page)


@console.get("/search/suggest")
@roles(*SEARCHERS)
def search_suggest():
    prefix = request.args.get("prefix", "")[:50]
    if not prefix.strip():
        return jsonify({"prefix": prefix, "suggestions": []})
    ctx = kb_ctx()
    found = search.suggest(ctx.search, current_user(), prefix=prefix, today=ctx.today(), limit=8)
    return jsonify({"prefix": found.prefix, "suggestions": list(found.suggestions)})


@console.route("/recommend", methods=["GET", "POST"])
@roles(*SEARCHERS)
def recommend():
    text = request.form.get("text", "")[:5000] if request.method == "POST" else ""
    result = _search(text, mode="ticket") if text.strip() else None
    return render_template("console/recommend.html", title="工单推荐", text=text, result=result)


@console.get("/knowledge/<int:entry_id>")
@roles(*SEARCHERS)
def entry_page(entry_id: int):
    ctx = kb_ctx()
    actor = current_user()
    entry = knowledge.get_entry(ctx.reader(), actor, entry_id, today=ctx.today())
    related = search.related(ctx.reader(), ctx.search, actor, entry_id, today=ctx.today(), limit=5)
    own_unit = actor.role is Role.MAINTAINER and entry.unit_code == _unit_code(actor)
    files = attachments.list_for_entry(ctx.reader(), actor, entry_id, today=ctx.today())
    return render_template("console/entry.html", title=entry.question, entry=entry, related=related, files=files,
                           search_id=request.args.get("sid"), flag_kinds=list(FlagKind),
                           can_propose=own_unit or actor.is_office, can_flag=actor.role is Role.OPERATOR
                           or actor.is_office, can_use=actor.role in (Role.OPERATOR, Role.OFFICE_ADMIN),
                           flag_errors=None, flag_text="")


def _unit_code(actor) -> str | None:
    from kb.models import Unit

    if actor.unit_id is None:
        return None
    with kb_ctx().reader() as uow:
        unit = uow.session.get(Unit, actor.unit_id)
        return unit.code if unit else None


@console.post("/knowledge/<int:entry_id>/usages")
@roles(Role.OPERATOR, Role.OFFICE_ADMIN)
def record_usage(entry_id: int):
    ctx = kb_ctx()
    search.record_usage(ctx.uow(), current_user(), entry_id, search_id=request.form.get("search_id") or None,
                        ticket_number=(request.form.get("ticket_number") or "").strip()[:40] or None, now=ctx.now(),
                        answered_directly=request.form.get("answered_directly", "1") != "0")
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify({"ok": True})
    flash("已记录：本次通话使用了此答案", "ok")
    return redirect(url_for("console.entry_page", entry_id=entry_id))


@console.post("/knowledge/<int:entry_id>/flags")
@roles(Role.OPERATOR, Role.OFFICE_ADMIN)
def raise_flag(entry_id: int):
    ctx = kb_ctx()
    kind = request.form.get("kind", "")
    text = request.form.get("text", "")
    try:
        if kind not in {k.value for k in FlagKind}:
            raise ValidationFailed({"kind": "请选择反馈类型"})
        if not text.strip():
            raise ValidationFailed({"text": "请写明错误或过时之处"})
        flags.raise_flag(ctx.uow(), current_user(), entry_id, kind=kind, text=text.strip()[:2000], now=ctx.now())
    except ValidationFailed as exc:
        actor = current_user()
        entry = knowledge.get_entry(ctx.reader(), actor, entry_id, today=ctx.today())
        return render_template("console/entry.html", title=entry.question, entry=entry, related=[],
                               search_id=None, flag_kinds=list(FlagKind), can_propose=actor.is_office,
                               can_flag=True, can_use=True, flag_errors=exc.errors, flag_text=text,
                               flag_kind=kind), 422
    except KbError:
        raise
    flash("反馈已提交，热线办将转交承办单位核实", "ok")
    return redirect(url_for("console.entry_page", entry_id=entry_id))
