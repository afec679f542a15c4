"""The log-in seam: who is this person? One small interface, so that a city's unified identity
system (OIDC, CAS) can replace or sit beside the password form without touching any view.

An identity provider only says which user is logging in; the console then opens its own
session for that user (kb.services.accounts.open_session), so log-out, deactivation and the
session rules are the same whichever way a person logged in.
"""
from __future__ import annotations

from typing import Protocol

from flask import Request

from kb.services import accounts


class IdentityProvider(Protocol):
    #: shown on the log-in page
    title: str
    #: True: the log-in page shows the user-name and password form and posts it to identify()
    uses_password_form: bool

    def identify(self, request: Request) -> int:
        """The id of the user logging in with this request; raises a kb error when refused."""


class PasswordLogin:
    """User name and password (argon2id), throttled per account and per address."""

    title = "用户名和密码"
    uses_password_form = True

    def __init__(self, kb_context, policy: accounts.LoginPolicy):
        self._kb = kb_context
        self._policy = policy

    def identify(self, request: Request) -> int:
        return accounts.identify_by_password(
            self._kb.uow(), username=request.form.get("username", ""), password=request.form.get("password", ""),
            address=request.remote_addr or "", now=self._kb.now(), policy=self._policy)
