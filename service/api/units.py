from __future__ import annotations

from flask.views import MethodView

from kb.models import Role
from kb.services import accounts, directory
from service.api import kb
from service.api.common import ANY_ROLE, api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.common import ShortListArgs, page, page_of
from service.schemas.directory import UnitCreate, UnitSchema, UnitUpdate

blp = api_blueprint("units", __name__, "承办单位")


@blp.route("")
class Units(MethodView):
    @roles(*ANY_ROLE)
    @blp.arguments(ShortListArgs, location="query")
    @blp.response(200, page_of(UnitSchema))
    @documented_errors(blp, 401, 422)
    def get(self, args):
        """List units ({items, total}, limit/offset)"""
        return page(directory.list_units(kb().reader()), args)

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(UnitCreate)
    @blp.response(201, UnitSchema)
    @documented_errors(blp, 401, 403, 409, 422)
    def post(self, body):
        """Create a unit (office)"""
        return directory.create_unit(kb().uow(), current_actor(), now=kb().now(), **body)


@blp.route("/<string:unit_code>")
class UnitByCode(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(UnitUpdate)
    @blp.response(200, UnitSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def patch(self, body, unit_code):
        """Edit a unit's name, code or liaison contact (office)"""
        return accounts.update_unit(kb().uow(), current_actor(), unit_code, body, now=kb().now())
