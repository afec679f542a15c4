"""Knowledge in and out from the console: the Excel template, an import with its report, an export, and the
basis documents of a change request or an entry (docs/import-export.md)."""
from __future__ import annotations

import io

from flask import current_app, flash, redirect, render_template, request, send_file, url_for

from kb.errors import KbError, ValidationFailed
from kb.models import Role
from kb.services import attachments, directory, imports, knowledge_export
from service.api.knowledge import export_download
from service.web.blueprint import console, kb_ctx, roles
from service.web.session import current_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORTERS = (Role.MAINTAINER, Role.OFFICE_ADMIN)


@console.get("/unit/import")
@roles(*IMPORTERS)
def import_page():
    units = directory.list_units(kb_ctx().reader()) if current_user().is_office else None
    return render_template("console/import.html", title="批量导入与导出", report=None, units=units,
                           max_rows=current_app.config["IMPORT_MAX_ROWS"])


@console.get("/unit/import/template")
@roles(*IMPORTERS)
def import_template():
    body = imports.template(kb_ctx().reader(), max_rows=current_app.config["IMPORT_MAX_ROWS"], today=kb_ctx().today())
    return send_file(io.BytesIO(body), mimetype=XLSX, as_attachment=True, download_name="知识导入模板.xlsx")


@console.post("/unit/import")
@roles(*IMPORTERS)
def import_upload():
    ctx = kb_ctx()
    upload = request.files.get("file")
    units = directory.list_units(ctx.reader()) if current_user().is_office else None
    if upload is None or not upload.filename:
        flash("请选择要导入的 .xlsx 或 .csv 文件", "error")
        return render_template("console/import.html", title="批量导入与导出", report=None, units=units,
                               max_rows=current_app.config["IMPORT_MAX_ROWS"]), 422
    data = upload.read()
    marked = request.form.get("marked") == "on"
    try:
        report = imports.import_file(
            ctx.uow(), current_user(), data=data, file_name=upload.filename, now=ctx.now(),
            unit_code=request.form.get("unit") or None, dry_run=request.form.get("check_only") == "on" or marked,
            submit=request.form.get("submit") == "on", max_rows=current_app.config["IMPORT_MAX_ROWS"],
            max_bytes=current_app.config["IMPORT_MAX_BYTES"])
    except KbError as exc:  # unreadable file, missing columns, too many rows: said on the page
        flash(exc.message, "error")
        return render_template("console/import.html", title="批量导入与导出", report=None, units=units,
                               max_rows=current_app.config["IMPORT_MAX_ROWS"]), 422
    if marked:
        return send_file(io.BytesIO(imports.marked_workbook(data, report)), mimetype=XLSX, as_attachment=True,
                         download_name="导入检查结果.xlsx")
    if not report.errors and not report.dry_run:
        flash(f"已导入 {len(report.created)} 条，均为{'已提交审核' if report.submit else '草稿'}", "ok")
    return render_template("console/import.html", title="批量导入与导出", report=report, units=units,
                           max_rows=current_app.config["IMPORT_MAX_ROWS"]), 422 if report.errors else 200


@console.get("/unit/export")
@roles(*IMPORTERS)
def export_knowledge():
    ctx = kb_ctx()
    fmt = "csv" if request.args.get("format") == "csv" else "xlsx"
    export = knowledge_export.prepare(ctx.reader(), current_user(), ctx.reader,
                                      unit_code=request.args.get("unit") or None,
                                      status=request.args.get("status", "published"))
    return export_download(export, fmt, ctx.now())


@console.post("/changes/<int:cr_id>/attachments")
@roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
def upload_attachment(cr_id: int):
    ctx = kb_ctx()
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed({"file": "请选择文件"})
        attachments.upload(ctx.uow(), ctx.attachments, current_user(), cr_id, file_name=upload.filename,
                           data=upload.read(), now=ctx.now(), max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"])
    except ValidationFailed as exc:
        flash("文件未上传：" + "；".join(map(str, exc.errors.values())), "error")
    except KbError as exc:
        flash("文件未上传：" + exc.message, "error")
    else:
        flash(f"已上传 {upload.filename}", "ok")
    return redirect(url_for("console.change_page", cr_id=cr_id))


@console.post("/changes/<int:cr_id>/attachments/<int:attachment_id>/delete")
@roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
def remove_attachment(cr_id: int, attachment_id: int):
    ctx = kb_ctx()
    attachments.remove(ctx.uow(), ctx.attachments, current_user(), cr_id, attachment_id, now=ctx.now())
    flash("已删除文件", "ok")
    return redirect(url_for("console.change_page", cr_id=cr_id))


@console.get("/files/<int:attachment_id>")
@roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
def download_attachment(attachment_id: int):
    ctx = kb_ctx()
    view, data = attachments.download(ctx.reader(), ctx.attachments, current_user(), attachment_id,
                                      today=ctx.today())
    response = send_file(io.BytesIO(data), mimetype=view.media_type, as_attachment=True,
                         download_name=view.file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
