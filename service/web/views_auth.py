"""Log-in, log-out, one's own password, and the home page of each role."""
from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for

from kb.errors import TooManyAttempts, Unauthenticated, ValidationFailed
from kb.services import accounts
from service.web.blueprint import HOME, _local_path, console, kb_ctx
from service.web.session import SESSION_KEY, current_user, log_in, log_out


@console.route("/login", methods=["GET", "POST"])
def login():
    next_page = _local_path(request.args.get("next"))
    provider = current_app.extensions["kb.identity"]
    if request.method == "GET":
        if current_user() is not None:
            return redirect(next_page or url_for("console.home"))
        return render_template("console/login.html", title="登录", next=next_page, provider=provider,
                               notice=g.get("session_ended"))
    from service.web import csrf
    csrf.protect()
    try:
        user_id = provider.identify(request)
    except (Unauthenticated, TooManyAttempts) as exc:
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        return render_template("console/login.html", title="登录", next=next_page, provider=provider,
                               error=exc.message, username=request.form.get("username", "")), status
    log_in(user_id, request.remote_addr or "")
    return redirect(next_page or url_for("console.home"))


@console.post("/logout")
def logout():
    log_out()
    flash("已退出登录", "ok")
    return redirect(url_for("console.login"))


@console.get("/")
def home():
    return redirect(url_for(HOME[current_user().role]))


@console.route("/account/password", methods=["GET", "POST"])
def change_password():
    errors = None
    if request.method == "POST":
        from flask import session
        try:
            accounts.change_own_password(kb_ctx().uow(), current_user(), now=kb_ctx().now(),
                                         current_password=request.form.get("current_password", ""),
                                         new_password=request.form.get("new_password", ""),
                                         keep_session_id=session.get(SESSION_KEY))
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash("密码已修改；其他设备上的登录已退出", "ok")
            return redirect(url_for("console.home"))
    return render_template("console/password.html", title="修改密码", errors=errors), 422 if errors else 200
