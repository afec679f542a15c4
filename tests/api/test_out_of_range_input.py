"""Numbers and dates beyond what the database or the calendar can hold are a 4xx in the one error shape, never a 500.

Ids are whole numbers from 1 to 2**31 - 1 (PostgreSQL integer keys); years of
dates that deadlines are counted from are 1900 to 2200.
"""
from __future__ import annotations

import pytest

from tests.api.test_tasks_api import feedback, published_entry

BEYOND_INT4 = 2**31  # PostgreSQL: integer out of range
BEYOND_INT8 = 99999999999999999999  # SQLite: Python int too large to convert


def assert_json_error(response, status=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.data[:300])
    if status is not None:
        assert response.status_code == status, response.json
    body = response.json
    assert body["status"] == response.status_code and body["code"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body
    return body


PATHS = [
    ("office", "get", "/api/v1/tasks/{}"),
    ("office", "post", "/api/v1/tasks/{}/link"),
    ("maint_a", "post", "/api/v1/tasks/{}/decline"),
    ("office", "get", "/api/v1/policies/{}"),
    ("office", "patch", "/api/v1/policies/{}"),
    ("office", "post", "/api/v1/policies/{}/status"),
    ("office", "get", "/api/v1/knowledge/{}"),
    ("office", "get", "/api/v1/knowledge/{}/versions"),
    ("office", "get", "/api/v1/knowledge/{}/related"),
    ("rev_a", "post", "/api/v1/knowledge/{}/verify"),
    ("operator", "post", "/api/v1/knowledge/{}/flags"),
    ("office", "get", "/api/v1/flags/{}"),
    ("office", "get", "/api/v1/change-requests/{}"),
    ("maint_a", "post", "/api/v1/change-requests/{}/submit"),
    ("office", "post", "/api/v1/change-requests/{}/office-review"),
    ("office", "patch", "/api/v1/categories/{}"),
    ("office", "delete", "/api/v1/synonyms/{}"),
    ("office", "get", "/api/v1/users/{}/tokens"),
]


@pytest.mark.parametrize("number", [BEYOND_INT4, BEYOND_INT8, 0])
@pytest.mark.parametrize("caller, method, template", PATHS)
def test_an_id_in_the_path_beyond_the_databases_range_is_not_found(people, caller, method, template, number):
    url = template.format(number)
    kwargs = {} if method in ("get", "delete") else {"json": {}}
    assert_json_error(getattr(getattr(people, caller), method)(url, **kwargs), 404)


@pytest.mark.parametrize("number", [BEYOND_INT4, BEYOND_INT8, -1])
@pytest.mark.parametrize("caller, method, url, body", [
    ("office", "post", "/api/v1/tasks", {"source": "city_notice", "detail": "市级通知", "entry_id": "{n}"}),
    ("maint_a", "post", "/api/v1/change-requests", {"kind": "modify", "entry_id": "{n}", "proposal": {}}),
    ("maint_a", "post", "/api/v1/change-requests", {"kind": "new", "proposal": {"category_id": "{n}"}}),
    ("office", "post", "/api/v1/categories", {"name": "新分类", "parent_id": "{n}"}),
    ("office", "get", "/api/v1/tasks?entry_id={n}", None),
    ("office", "get", "/api/v1/flags?entry_id={n}", None),
    ("office", "get", "/api/v1/audit-events?object_id={n}", None),
    ("office", "get", "/api/v1/audit-events?before_id={n}", None),
    ("operator", "get", "/api/v1/search?q=居住证&category_id={n}", None),
])
def test_an_id_in_a_body_or_query_beyond_the_databases_range_is_refused(people, caller, method, url, body, number):
    def fill(value):
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return number if value == "{n}" else value

    kwargs = {"json": fill(body)} if body is not None else {}
    assert_json_error(getattr(getattr(people, caller), method)(url.format(n=number), **kwargs), 422)


def test_linking_a_task_to_a_change_request_beyond_the_databases_range_is_refused(people):
    task = feedback(people, published_entry(people))
    r = people.maint_a.post(f"/api/v1/tasks/{task['id']}/link", json={"change_request_id": BEYOND_INT8})
    assert "change_request_id" in assert_json_error(r, 422)["errors"]
    assert people.maint_a.get(f"/api/v1/tasks/{task['id']}").json["state"] == "open"


@pytest.mark.parametrize("number", [BEYOND_INT4, BEYOND_INT8])
def test_version_numbers_beyond_the_databases_range_are_a_conflict_or_refused(people, number):
    entry_id = published_entry(people)
    r = people.maint_a.post("/api/v1/change-requests", json={"kind": "modify", "entry_id": entry_id,
                                                              "base_version": number, "proposal": {}})
    assert_json_error(r)
    r = people.rev_a.post(f"/api/v1/knowledge/{entry_id}/verify", json={}, headers={"If-Match": f'"v{number}"'})
    assert_json_error(r)


@pytest.mark.parametrize("query", [
    {"received": "9999-12-31T10:00:00+08:00", "days": 5},
    {"received": "0001-01-01T00:00:00+14:00", "days": 5},
    {"received": "9999-12-31T10:00:00+08:00", "source": "emergency"},
    {"received": "9999-12-20T10:00:00+08:00", "source": "yearly_verification"},
    {"received": "0001-01-01T00:00:00+14:00", "source": "yearly_verification"},
    {"received": "1899-12-31T10:00:00+08:00", "days": 5},
    {"received": "2026-09-30T10:00:00+08:00", "source": "policy_change", "policy_effective_on": "0001-01-01"},
    {"received": "2026-09-30T10:00:00+08:00", "source": "policy_change", "policy_effective_on": "9999-12-31"},
])
def test_a_deadline_asked_for_near_the_ends_of_the_calendar_is_refused_not_a_crash(people, query):
    r = people.operator.get("/api/v1/calendar/deadline", query_string=query)
    body = assert_json_error(r, 422)
    assert set(body["errors"]["query"]) & {"received", "policy_effective_on"}


def test_deadlines_within_the_accepted_years_are_answered(people):
    for received, days in (("1900-01-01T10:00:00+08:00", 5), ("2200-12-31T10:00:00+08:00", 365)):
        r = people.operator.get("/api/v1/calendar/deadline", query_string={"received": received, "days": days})
        assert r.status_code == 200 and r.json["provisional"] is True
    r = people.operator.get("/api/v1/calendar/deadline", query_string={
        "received": "2200-12-20T10:00:00+08:00", "source": "yearly_verification"})
    assert r.status_code == 200 and r.json["due_at"] == "2200-12-31T23:59:59+08:00"


@pytest.mark.parametrize("caller, method, url, body", [
    ("office", "post", "/api/v1/tasks", {"source": "city_notice", "unit_code": "HX", "detail": "通知",
                                         "received_at": "0001-01-01T00:00:00+14:00"}),
    ("office", "post", "/api/v1/policies", {"doc_number": "济人社发〔2026〕30号", "title": "通知", "issuer": "市人社局",
                                            "published_on": "0001-01-01", "effective_on": "2026-12-01",
                                            "unit_code": "RSJ"}),
    ("office", "post", "/api/v1/policies", {"doc_number": "济人社发〔2026〕31号", "title": "通知", "issuer": "市人社局",
                                            "published_on": "2026-10-01", "effective_on": "9999-12-31",
                                            "unit_code": "RSJ"}),
])
def test_task_and_policy_dates_beyond_the_accepted_years_are_refused(people, caller, method, url, body):
    assert_json_error(getattr(getattr(people, caller), method)(url, json=body), 422)


def test_the_deadline_rule_refuses_dates_at_the_ends_of_the_calendar_below_http_too(world):
    from datetime import datetime

    from kb.calendar import SHANGHAI
    from kb.errors import ValidationFailed
    from kb.services import calendar_admin
    from kb.services.tasks import DEFAULT_SETTINGS

    with pytest.raises(ValidationFailed) as refused:
        calendar_admin.deadline(world.uow(), received_at=datetime(9999, 12, 31, 10, tzinfo=SHANGHAI),
                                settings=DEFAULT_SETTINGS, days=5)
    assert "received" in refused.value.details["errors"]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_id_a_caller_may_send_is_checked_against_the_databases_range(app):
    """Input schemas declare ids with service.schemas.fields.Id, and every `<int:...>` route uses IdConverter."""
    from marshmallow import fields
    from werkzeug.routing import IntegerConverter

    from service.routing import IdConverter
    from service.schemas.common import StrictSchema
    from service.schemas.fields import Id

    loose = [(schema.__name__, name) for schema in _subclasses(StrictSchema)
             for name, field in schema._declared_fields.items()
             if (name == "id" or name.endswith("_id")) and isinstance(field, fields.Integer)
             and not field.dump_only and not isinstance(field, Id)]
    assert loose == []
    converters = [type(c) for rule in app.url_map.iter_rules() for c in rule._converters.values()
                  if isinstance(c, IntegerConverter)]
    assert converters and set(converters) == {IdConverter}
