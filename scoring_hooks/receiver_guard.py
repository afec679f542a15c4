"""A requests session that checks the address each connection actually reaches before anything is sent.

Checking the URL's host as written is not enough: a public name can resolve
to 127.0.0.1 or 169.254.169.254, and parsers disagree on odd URLs. Here the
check runs on the connected socket's peer address, inside urllib3, after DNS
and before the request is written; a refused address closes the socket and
the attempt fails with :data:`REFUSED`. Redirects stay off (post_delivery)
and the environment's proxies are ignored (the peer would be the proxy).
"""
from __future__ import annotations

from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: (host as in the URL, peer IP address) -> may the request be sent there
ConnectionCheck = Callable[[str, str], bool]

REFUSED = "receiver address not allowed here (KB_WEBHOOK_ALLOWED_HOSTS)"


class AddressNotAllowed(OSError):
    """The connection reached an address the deployment does not let webhooks go to."""


def _checked(connection_cls, check: ConnectionCheck):
    class Checked(connection_cls):
        def _new_conn(self):
            sock = super()._new_conn()
            peer = sock.getpeername()[0]
            if not check(self.host, peer):
                sock.close()
                raise AddressNotAllowed(f"{REFUSED}: {self.host} is {peer}")
            return sock

    Checked.__name__ = f"Checked{connection_cls.__name__}"
    return Checked


class CheckedAdapter(HTTPAdapter):
    def __init__(self, check: ConnectionCheck, **kwargs):
        self._check = check
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        http = type("CheckedHTTPConnectionPool", (HTTPConnectionPool,),
                    {"ConnectionCls": _checked(HTTPConnection, self._check)})
        https = type("CheckedHTTPSConnectionPool", (HTTPSConnectionPool,),
                     {"ConnectionCls": _checked(HTTPSConnection, self._check)})
        self.poolmanager.pool_classes_by_scheme = {"http": http, "https": https}


def guard(session: requests.Session, check: ConnectionCheck) -> requests.Session:
    """Mount the check on `session` for http and https, and make it ignore proxy settings."""
    session.trust_env = False
    adapter = CheckedAdapter(check)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
