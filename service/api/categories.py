from __future__ import annotations

from flask.views import MethodView

from kb.models import Role
from kb.services import categories
from service.api import kb
from service.api.common import ANY_ROLE, api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.common import ShortListArgs, page, page_of
from service.schemas.knowledge import CategoryCreate, CategorySchema, CategoryUpdate

blp = api_blueprint("categories", __name__, "知识分类（第四条）")


@blp.route("")
class Categories(MethodView):
    @roles(*ANY_ROLE)
    @blp.arguments(ShortListArgs, location="query")
    @blp.response(200, page_of(CategorySchema))
    @documented_errors(blp, 401, 422)
    def get(self, args):
        """List the category tree, roots first ({items, total}, limit/offset)"""
        return page(categories.list_categories(kb().reader()), args)

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(CategoryCreate)
    @blp.response(201, CategorySchema)
    @documented_errors(blp, 401, 403, 409, 422)
    def post(self, body):
        """Create a category (office)"""
        return categories.create_category(kb().uow(), current_actor(), now=kb().now(), **body)


@blp.route("/<int:category_id>")
class Category(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(CategoryUpdate)
    @blp.response(200, CategorySchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def patch(self, body, category_id):
        """Rename, move or reorder a category (office)"""
        return categories.update_category(kb().uow(), current_actor(), category_id, changes=body, now=kb().now())

    @blp.response(204)
    @documented_errors(blp, 401, 403, 404, 409)
    def delete(self, category_id):
        """Delete an empty category (office)"""
        categories.delete_category(kb().uow(), current_actor(), category_id, kb().now())
