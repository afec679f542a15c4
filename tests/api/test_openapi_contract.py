"""The OpenAPI document matches what is sent: a bounded schemathesis run against the app (WSGI, no server).

Requests are generated from /openapi.json for every operation and sent as the
office (who may call everything) through the Flask app; the run fails on any
5xx, on a status the operation does not document, on a content type or a body
that does not match the document. Bounded: a few examples per operation, so
it takes a minute or two; raise KB_SCHEMATHESIS_EXAMPLES for a longer hunt.
"""
from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance, response_schema_conformance, status_code_conformance)

EXAMPLES = int(os.environ.get("KB_SCHEMATHESIS_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _document_app():
    """An app that only serves the document (no database is touched); the cases go to the test's app."""
    import tempfile

    from service.app import create_app

    return create_app({"DATABASE_URL": "sqlite://", "INDEX_DIR": tempfile.mkdtemp(prefix="kb-openapi-"),
                       "SEARCH_OPEN_ON_STARTUP": False, "TESTING": True})


# Loaded when the module is collected: schemathesis' lazy fixture loader does not run under pytest 9.
schema = schemathesis.openapi.from_wsgi("/openapi.json", _document_app())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_matches_the_openapi_document(case, app, people, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the document is the same on both databases; one bounded run is enough")
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {people.office.token}"}, checks=CHECKS)
