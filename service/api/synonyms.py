from __future__ import annotations

from flask.views import MethodView

from kb.models import Role
from kb.services import search
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.common import ShortListArgs, page, page_of
from service.schemas.search import SynonymCreate, SynonymImport, SynonymImportResult, SynonymSchema

blp = api_blueprint("synonyms", __name__, "同义词（口语 ↔ 规范词），检索时生效")


@blp.route("")
class Synonyms(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(ShortListArgs, location="query")
    @blp.response(200, page_of(SynonymSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List synonym groups ({items, total}, limit/offset)"""
        return page(search.list_synonyms(kb().reader(), current_actor()), args)

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(SynonymCreate)
    @blp.response(201, SynonymSchema)
    @documented_errors(blp, 401, 403, 422)
    def post(self, body):
        """Add a synonym group (office)"""
        return search.create_synonyms(kb().uow(), current_actor(), now=kb().now(), **body)


@blp.route("/<int:group_id>")
class SynonymGroup(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(SynonymCreate)
    @blp.response(200, SynonymSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def put(self, body, group_id):
        """Replace a synonym group (office)"""
        return search.update_synonyms(kb().uow(), current_actor(), group_id, now=kb().now(), **body)

    @blp.response(204)
    @documented_errors(blp, 401, 403, 404)
    def delete(self, group_id):
        """Delete a synonym group (office)"""
        search.delete_synonyms(kb().uow(), current_actor(), group_id, kb().now())


@blp.route("/import")
class SynonymImportView(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(SynonymImport)
    @blp.response(200, SynonymImportResult)
    @documented_errors(blp, 401, 403, 422)
    def post(self, body):
        """Import synonym groups from text, one group per line (office)"""
        return search.import_synonyms(kb().uow(), current_actor(), text=body["text"], replace=body["replace"],
                                      now=kb().now())
