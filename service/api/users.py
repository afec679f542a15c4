from __future__ import annotations

from flask.views import MethodView

from kb.models import Role
from kb.services import accounts, directory
from service.api import kb
from service.api.common import ANY_ROLE, api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.config import token_ttl
from service.schemas.common import ShortListArgs, page, page_of
from service.schemas.directory import (
    CreatedUserSchema, IssuedTokenSchema, PasswordChange, PasswordReset, TokenCreate, TokenSchema, UserActivation,
    UserCreate, UserSchema)

blp = api_blueprint("users", __name__, "用户与访问令牌")


@blp.route("")
class Users(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(ShortListArgs, location="query")
    @blp.response(200, page_of(UserSchema))
    @documented_errors(blp, 401, 403, 422)
    def get(self, args):
        """List users ({items, total}, limit/offset; office)"""
        return page(directory.list_users(kb().reader(), current_actor()), args)

    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(UserCreate)
    @blp.response(201, CreatedUserSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def post(self, body):
        """Create a user; the response shows its first token once"""
        user, token = directory.create_user(kb().uow(), current_actor(), now=kb().now(),
                                            token_ttl=token_ttl(kb().settings), **body)
        return {"user": user, "token": token}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    @documented_errors(blp, 401)
    def get(self):
        """The user behind the token"""
        actor = current_actor()
        return directory.get_user(kb().reader(), actor.user_id)


@blp.route("/<int:user_id>/tokens")
class Tokens(MethodView):
    @roles(*ANY_ROLE)  # one's own tokens; another user's: the office (the use case checks)
    @blp.arguments(ShortListArgs, location="query")
    @blp.response(200, page_of(TokenSchema))
    @documented_errors(blp, 401, 403, 404, 422)
    def get(self, args, user_id):
        """List a user's tokens, never the tokens themselves ({items, total}, limit/offset)"""
        return page(directory.list_tokens(kb().reader(), current_actor(), user_id), args)

    @roles(*ANY_ROLE)
    @blp.arguments(TokenCreate)
    @blp.response(201, IssuedTokenSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def post(self, body, user_id):
        """Issue a new token; shown once"""
        info, token = directory.issue_token(kb().uow(), current_actor(), user_id, body["label"], kb().now(),
                                            ttl=token_ttl(kb().settings))
        return {"token_info": info, "token": token}


@blp.route("/tokens/<int:token_id>")
class Token(MethodView):
    @blp.response(200, TokenSchema)
    @documented_errors(blp, 401, 403, 404)
    def delete(self, token_id):
        """Revoke a token"""
        return directory.revoke_token(kb().uow(), current_actor(), token_id, kb().now())


@blp.route("/me/password")
class MyPassword(MethodView):
    @roles(*ANY_ROLE)
    @blp.arguments(PasswordChange)
    @blp.response(204)
    @documented_errors(blp, 401, 422)
    def post(self, body):
        """Change one's own password (the current one is required); one's console sessions end"""
        accounts.change_own_password(kb().uow(), current_actor(), now=kb().now(), **body)


@blp.route("/<int:user_id>/password")
class UserPassword(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(PasswordReset)
    @blp.response(200, UserSchema)
    @documented_errors(blp, 401, 403, 404, 409, 422)
    def put(self, body, user_id):
        """Set or reset a user's log-in name and password (office); the user's console sessions end"""
        accounts.set_credentials(kb().uow(), current_actor(), user_id, now=kb().now(), **body)
        return directory.get_user(kb().reader(), user_id)


@blp.route("/<int:user_id>/active")
class UserActive(MethodView):
    @roles(Role.OFFICE_ADMIN)
    @blp.arguments(UserActivation)
    @blp.response(200, UserSchema)
    @documented_errors(blp, 401, 403, 404, 422)
    def put(self, body, user_id):
        """Deactivate or reactivate a user (office); deactivation ends its sessions and stops its tokens at once"""
        accounts.set_active(kb().uow(), current_actor(), user_id, active=body["active"], now=kb().now())
        return directory.get_user(kb().reader(), user_id)
