from __future__ import annotations

from flask.views import MethodView

from kb.services import knowledge
from service.api import kb
from service.api.common import api_blueprint, documented_errors
from service.auth import current_actor
from service.schemas.common import page_of
from service.schemas.knowledge import KnowledgeQueryArgs, KnowledgeSchema, VersionSchema

blp = api_blueprint("knowledge", __name__, "已发布的知识")


@blp.route("")
class KnowledgeList(MethodView):
    @blp.arguments(KnowledgeQueryArgs, location="query")
    @blp.response(200, page_of(KnowledgeSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List published knowledge in effect today"""
        total, items = knowledge.list_published(
            kb().reader(), current_actor(), today=kb().today(), category_id=args.get("category_id"),
            unit_code=args.get("unit"), include_withdrawn=args["include_withdrawn"], limit=args["limit"],
            offset=args["offset"])
        return {"total": total, "items": items}


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
