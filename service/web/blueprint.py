"""The console blueprint: who is logged in, who may open what, and errors as pages."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from kb.access import ROLE_LABELS
from kb.errors import KbError, NotFound, PermissionDenied, Unauthenticated
from kb.models import Role
from service.errors import status_for
from service.web import present
from service.web.session import current_user

console = Blueprint("console", __name__, template_folder="templates", static_folder="static",
                    static_url_path="/static")

# Forms that carry a file larger than other requests may be: the setting that limits each.
LARGE_UPLOADS = {"console.import_upload": "IMPORT_MAX_BYTES", "console.upload_attachment": "ATTACHMENT_MAX_BYTES"}

# Pages anyone may open.
PUBLIC = {"console.login", "console.static"}

# The menu of each role: (endpoint, label).
MENUS: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.OPERATOR: (("console.search", "知识检索"), ("console.recommend", "工单推荐")),
    Role.MAINTAINER: (("console.unit_knowledge", "本单位知识"), ("console.my_changes", "我的申请"),
                      ("console.new_change", "新增知识"), ("console.import_page", "导入导出"),
                      ("console.unit_tasks", "纠错任务"), ("console.notices", "督办通知"), ("console.standing", "考核情况"), ("console.search", "知识检索")),
    Role.UNIT_REVIEWER: (("console.review_queue", "待审核"), ("console.unit_knowledge", "本单位知识"),
                         ("console.unit_tasks", "纠错任务"), ("console.notices", "督办通知"),
                         ("console.standing", "考核情况"), ("console.search", "知识检索")),
    Role.OFFICE_ADMIN: (("console.publish_queue", "待发布"), ("console.new_change", "紧急发布"),
                        ("console.office_flags", "话务员反馈"), ("console.unit_tasks", "纠错任务"),
                        ("console.office_gaps", "知识缺口"), ("console.office_policies", "政策文件"),
                        ("console.office_synonyms", "同义词"), ("console.office_calendar", "工作日历"),
                        ("console.office_users", "用户与单位"), ("console.standing", "考核"),
                        ("console.office_bulletin", "月度通报"), ("console.notices", "督办通知"),
                        ("console.office_notifications", "提醒记录"), ("console.search", "知识检索")),
}
HOME = {Role.OPERATOR: "console.search", Role.MAINTAINER: "console.unit_knowledge",
        Role.UNIT_REVIEWER: "console.review_queue", Role.OFFICE_ADMIN: "console.publish_queue"}


@console.before_request
def _require_log_in():
    if request.endpoint in PUBLIC:
        return None
    if current_user() is None:
        return redirect(url_for("console.login", next=_local_path(request.full_path)))
    if request.method == "POST":
        if request.endpoint in LARGE_UPLOADS:  # before the form is read (CSRF): their own size limits
            request.max_content_length = current_app.config[LARGE_UPLOADS[request.endpoint]] + 1024 * 1024
        from service.web import csrf
        csrf.protect()
    return None


def _local_path(target: str | None) -> str | None:
    """Only paths on this site: a next= pointing elsewhere would make the log-in page an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    # Browsers read "/\\host" as "//host": a backslash anywhere is refused too.
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target.rstrip("?")


def _asset_versions() -> dict[str, str]:
    """Each static file's content hash: its URL changes when it does, so browsers may keep it for a year."""
    import hashlib
    from pathlib import Path

    folder = Path(console.static_folder)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in folder.iterdir() if p.is_file()}


_ASSETS = _asset_versions()
ASSET_MAX_AGE = 365 * 24 * 3600


def asset(name: str) -> str:
    return url_for("console.static", filename=name, v=_ASSETS.get(name, "0"))


@console.after_request
def _cache_headers(response):
    if request.endpoint == "console.static" and request.args.get("v"):
        response.cache_control.public = True
        response.cache_control.max_age = ASSET_MAX_AGE
        response.cache_control.immutable = True
    elif response.mimetype == "text/html":
        response.cache_control.no_store = True  # pages show who is logged in and live data
    return response


@console.app_context_processor
def _page_context():
    actor = g.get("console_actor")
    menu = [(e, label) for e, label in MENUS.get(actor.role, ())
            if e in current_app.view_functions] if actor else []
    return {"me": actor, "menu": menu, "has_page": current_app.view_functions.__contains__, "asset": asset,
            "role_label": ROLE_LABELS.get(actor.role) if actor else None, "present": present}


def roles(*allowed: Role):
    """Only these roles may open the page; others get a 403 page that says so."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user().role not in allowed:
                raise PermissionDenied(f"{ROLE_LABELS[current_user().role]}无权打开此页面")
            return view(*args, **kwargs)
        return wrapper
    return decorate


def kb_ctx():
    return current_app.extensions["kb"]


@console.errorhandler(KbError)
def _kb_error_page(error: KbError):
    status = status_for(error)
    if isinstance(error, Unauthenticated):
        return redirect(url_for("console.login"))
    title = {403: "无权访问", 404: "没有找到"}.get(status, "操作未完成")
    return render_template("console/error.html", title=title, message=error.message, status=status), status


@console.errorhandler(CSRFError)
def _csrf_page(error: CSRFError):
    return render_template("console/error.html", title="页面已过期",
                           message="表单已过期或来源不明（CSRF 校验未通过），请返回并刷新页面后重试。", status=400), 400


@console.errorhandler(404)
def _not_found_page(error):
    return render_template("console/error.html", title="没有找到", message="页面不存在。", status=404), 404


__all__ = ["console", "roles", "kb_ctx", "HOME", "NotFound"]


@console.app_template_filter("day")
def _day(value) -> str:
    """A date, or a moment as its Shanghai date: what people at the hotline read."""
    from datetime import date, datetime

    from kb.calendar import to_shanghai

    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value[:10]
    if isinstance(value, datetime):
        return to_shanghai(value).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@console.app_template_filter("when")
def _when(value) -> str:
    """A moment in Shanghai time, to the minute."""
    from datetime import datetime

    from kb.calendar import to_shanghai

    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return to_shanghai(value).strftime("%Y-%m-%d %H:%M")
