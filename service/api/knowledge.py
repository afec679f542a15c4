from __future__ import annotations

import os

from flask import Response, send_file
from flask.views import MethodView

from kb.calendar import SHANGHAI
from kb.services import knowledge, knowledge_export
from kb.services import search as search_service
from kb.spreadsheets import StreamingXlsx, csv_chunks
from service.api import kb
from service.api.common import api_blueprint, documented_errors
from service.auth import current_actor
from service.schemas.common import page_of
from service.schemas.imports import ExportQueryArgs
from service.schemas.knowledge import KnowledgeQueryArgs, KnowledgeSchema, VersionSchema
from service.schemas.search import HitSchema, SearchResultSchema, UsageCreate, UsageSchema

blp = api_blueprint("knowledge", __name__, "已发布的知识")


@blp.route("")
class KnowledgeList(MethodView):
    @blp.arguments(KnowledgeQueryArgs, location="query")
    @blp.response(200, page_of(KnowledgeSchema))
    @blp.alt_response(200, schema=SearchResultSchema, description="with ?q=: search results", success=True)
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List published knowledge in effect today; with ?q= search it (same as /search)"""
        if args.get("q") is not None:
            from service.api.search import run_search

            from flask import jsonify

            result = run_search(args["q"], category_id=args.get("category_id"),
                                units=[args["unit"]] if args.get("unit") else [],
                                page=args["offset"] // args["limit"] + 1, per_page=min(args["limit"], 50))
            return jsonify(SearchResultSchema().dump(result))
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
    @blp.alt_response(200, description="format=csv", content_type="text/csv", success=True)
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """Export knowledge with every field as .xlsx or .csv (own unit; the office all), streamed"""
        export = knowledge_export.prepare(
            kb().reader(), current_actor(), kb().reader, unit_code=args["unit"], category_id=args["category_id"],
            status=args["status"], updated_since=args["updated_since"])
        stamp = kb().now().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
        if args["format"] == "csv":
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
        return entry, 200, {"ETag": f'"v{entry["version"]}"'}


@blp.route("/<int:entry_id>/versions")
class KnowledgeVersions(MethodView):
    @blp.response(200, VersionSchema(many=True))
    @documented_errors(blp, 401, 403, 404)
    def get(self, entry_id):
        """Every published version of an entry (its unit and the office)"""
        return knowledge.list_versions(kb().reader(), current_actor(), entry_id)


@blp.route("/<int:entry_id>/related")
class RelatedKnowledge(MethodView):
    @blp.response(200, HitSchema(many=True))
    @documented_errors(blp, 401, 403, 404)
    def get(self, entry_id):
        """Related knowledge in effect today"""
        return search_service.related(kb().reader(), kb().search, current_actor(), entry_id, today=kb().today())


@blp.route("/<int:entry_id>/usages")
class KnowledgeUsages(MethodView):
    @blp.arguments(UsageCreate)
    @blp.response(201, UsageSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def post(self, body, entry_id):
        """Record that an operator used this answer (optionally with the ticket number)"""
        return search_service.record_usage(kb().uow(), current_actor(), entry_id, search_id=body["search_id"],
                                           ticket_number=body["ticket_number"], now=kb().now(),
                                           answered_directly=body["answered_directly"])
