"""Knowledge import: the template, and a spreadsheet in as change requests (docs/import-export.md)."""
from __future__ import annotations

import io

from flask import current_app, request, send_file
from flask.views import MethodView

from kb.access import require_role
from kb.models import Role
from kb.services import imports
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.imports import ImportFile, ImportQueryArgs, ImportReportSchema

blp = api_blueprint("imports", __name__, "知识导入：Excel 模板与批量导入")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MULTIPART_ROOM = 1024 * 1024  # form boundaries and headers around the file


@blp.before_request
def _allow_large_upload():
    """An import file may be larger than other request bodies (KB_IMPORT_MAX_BYTES, not KB_MAX_BODY_BYTES)."""
    request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"] or 0,
                                     current_app.config["IMPORT_MAX_BYTES"] + MULTIPART_ROOM)


@blp.route("/template")
class ImportTemplate(MethodView):
    @blp.response(200, description="知识导入模板（.xlsx）", content_type=XLSX)
    @documented_errors(blp, 401, 403)
    def get(self):
        """The .xlsx import template: headings, drop-downs of categories and content types, an example, instructions"""
        current_actor_may_import()
        body = imports.template(kb().reader(), max_rows=current_app.config["IMPORT_MAX_ROWS"], today=kb().today())
        return send_file(io.BytesIO(body), mimetype=XLSX, as_attachment=True,
                         download_name="知识导入模板.xlsx")


def current_actor_may_import():
    require_role(current_actor(), Role.MAINTAINER, Role.OFFICE_ADMIN)


@blp.route("")
class Imports(MethodView):
    @roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
    @blp.arguments(ImportQueryArgs, location="query")
    @blp.arguments(ImportFile, location="files")
    @blp.response(201, ImportReportSchema, description="全部通过并已保存：每行一条变更申请")
    @blp.alt_response(200, schema=ImportReportSchema, description="dry_run=1 且全部通过：未保存", success=True)
    @blp.alt_response(200, description="report=xlsx：标出错误的工作簿", content_type=XLSX, success=True)
    @documented_errors(blp, 401, 403, 413, 422)
    def post(self, args, files):
        """Import knowledge from an .xlsx or .csv file: all rows become change requests, or none (422 with a report)"""
        upload = files["file"]
        data = upload.read()
        as_workbook = args["report"] == "xlsx"
        report = imports.import_file(
            kb().uow(), current_actor(), data=data, file_name=upload.filename or "upload", now=kb().now(),
            unit_code=args["unit"], dry_run=args["dry_run"] or as_workbook, submit=args["submit"],
            max_rows=current_app.config["IMPORT_MAX_ROWS"], max_bytes=current_app.config["IMPORT_MAX_BYTES"])
        if as_workbook:
            response = send_file(io.BytesIO(imports.marked_workbook(data, report)), mimetype=XLSX,
                                 as_attachment=True, download_name="导入检查结果.xlsx")
            response.headers["X-Import-Errors"] = str(len(report.errors))
            return response
        if report.errors:
            raise imports.ImportRejected(report)
        return report, 200 if report.dry_run else 201
