from __future__ import annotations

import os

from flask import Response, send_file
from flask.views import MethodView
from marshmallow import fields

from kb.calendar import SHANGHAI
from kb.models import Role
from kb.services import knowledge, knowledge_export
from kb.services import search as search_service
from kb.spreadsheets import StreamingXlsx, csv_chunks
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.common import ShortListArgs, page, page_of
from service.schemas.imports import ExportQueryArgs
from service.schemas.knowledge import KnowledgeQueryArgs, KnowledgeSchema, VersionSchema
from service.schemas.search import MAX_RELATED, HitSchema, RelatedArgs, UsageCreate, UsageSchema

class KnowledgePage(page_of(KnowledgeSchema)):
    search_id = fields.String(metadata={"description": "只在 ?q= 时：记录“使用了此答案”时带上"})


blp = api_blueprint("knowledge", __name__, "已发布的知识")


@blp.route("")
class KnowledgeList(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(KnowledgeQueryArgs, location="query")
    @blp.response(200, KnowledgePage)
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List published knowledge in effect today, newest first; with ?q=, best match first (same shape)"""
        ctx = kb()
        if args.get("q") is not None:
            result = search_service.search(
                ctx.search, ctx.search_log, current_actor(), text=args["q"], today=ctx.today(), now=ctx.now(),
                category_id=args.get("category_id"), unit_codes=(args["unit"],) if args.get("unit") else (),
                offset=args["offset"], limit=args["limit"], exact_total=True)
            _, items = knowledge.list_published(ctx.reader(), current_actor(), today=ctx.today(),
                                                entry_ids=[hit.entry_id for hit in result.hits])
            return {"total": result.total, "items": items, "search_id": result.search_id}
        total, items = knowledge.list_published(
            kb().reader(), current_actor(), today=kb().today(), category_id=args.get("category_id"),
            unit_code=args.get("unit"), include_withdrawn=args["include_withdrawn"], limit=args["limit"],
            offset=args["offset"])
        return {"total": total, "items": items}


@blp.route("/export")
class KnowledgeExport(MethodView):
    @blp.arguments(ExportQueryArgs, location="query")
    @blp.response(200, description="知识导出（.xlsx 或 .csv），列与导入模板一致，可修改后重新导入",
                  content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    @roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
    @blp.alt_response(200, description="format=csv", content_type="text/csv", success=True)
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Export knowledge with every field as .xlsx or .csv (own unit; the office all), streamed"""
        export = knowledge_export.prepare(
            kb().reader(), current_actor(), kb().reader, unit_code=args["unit"], category_id=args["category_id"],
            status=args["status"], updated_since=args["updated_since"])
        return export_download(export, args["format"], kb().now())


def export_download(export, fmt: str, now) -> Response:
    """An export as a download: CSV streamed row by row, xlsx written to a temporary file and sent from it.

    The console's export sends the same file.
    """
    stamp = now.astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        response = Response(csv_chunks(export.headings, export.rows()), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="knowledge-{stamp}.csv"'
        return response
    writer = StreamingXlsx("知识", export.headings, export.widths)
    for row in export.rows():
        writer.append(row)
    path = writer.save()
    handle = open(path, "rb")  # noqa: SIM115 - closed by the response
    os.unlink(path)  # the open handle keeps the data until the response has sent it
    return send_file(handle, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     as_attachment=True, download_name=f"knowledge-{stamp}.xlsx")


@blp.route("/<int:entry_id>")
class KnowledgeItem(MethodView):
    @blp.response(200, KnowledgeSchema)
    @documented_errors(blp, 401, 403, 404)
    def get(self, entry_id):
        """Get one entry; its ETag is the published version (use it as If-Match to change it)"""
        entry = knowledge.get_entry(kb().reader(), current_actor(), entry_id, today=kb().today())
        return entry, 200, {"ETag": f'"v{entry.version}"'}


@blp.route("/<int:entry_id>/versions")
class KnowledgeVersions(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(ShortListArgs, location="query")
    @blp.response(200, page_of(VersionSchema))
    @documented_errors(blp, 401, 403, 404, 422)
    def get(self, args, entry_id):
        """Every published version of an entry ({items, total}, limit/offset; its unit and the office)"""
        return page(knowledge.list_versions(kb().reader(), current_actor(), entry_id), args)


@blp.route("/<int:entry_id>/related")
class RelatedKnowledge(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(RelatedArgs, location="query")
    @blp.response(200, page_of(HitSchema))
    @documented_errors(blp, 401, 403, 404, 422)
    def get(self, args, entry_id):
        """Related knowledge in effect today, most alike first ({items, total}; total counts at most 50)"""
        return page(search_service.related(kb().reader(), kb().search, current_actor(), entry_id, today=kb().today(),
                                           limit=MAX_RELATED), args)


@blp.route("/<int:entry_id>/usages")
class KnowledgeUsages(MethodView):
    @roles(Role.OPERATOR, Role.OFFICE_ADMIN)
    @blp.arguments(UsageCreate)
    @blp.response(201, UsageSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def post(self, body, entry_id):
        """Record that an operator used this answer (optionally with the ticket number)"""
        return search_service.record_usage(kb().uow(), current_actor(), entry_id, search_id=body["search_id"],
                                           ticket_number=body["ticket_number"], now=kb().now(),
                                           answered_directly=body["answered_directly"])
