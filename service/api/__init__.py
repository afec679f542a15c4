"""One blueprint per resource, all under /api/v1."""
from __future__ import annotations

from flask import current_app, request

from kb.errors import ValidationFailed


def kb():
    """The KbContext of the running app."""
    return current_app.extensions["kb"]


def if_match_number(body_value: int | None, prefix: str) -> int | None:
    """A version or revision number from the body, or else from an If-Match header like "v3"."""
    if body_value is not None:
        return body_value
    header = request.headers.get("If-Match")
    if not header:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if value.startswith(prefix):
        value = value[len(prefix):]
    if not (value.isascii() and value.isdigit()) or len(value) > 18:  # "２" and "²" are digits to isdigit()
        raise ValidationFailed({"If-Match": f"If-Match 应为 \"{prefix}<数字>\""})
    return int(value)


def register_blueprints(api) -> None:
    from service.api import audit_events, categories, change_requests, knowledge, search, synonyms, units, users

    for module in (units, users, categories, knowledge, change_requests, audit_events, search, synonyms):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1/{module.blp.name}")

    # The correction loop: tasks, policy documents, the calendar, the inbox; flags and verification
    # hang off /api/v1/knowledge/{id} and have collections of their own, so they are mounted at /api/v1.
    from service.api import calendar, flags, inbox, policies, tasks, verification

    for module in (tasks, policies, calendar, inbox):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1/{module.blp.name}")
    for module in (flags, verification):
        api.register_blueprint(module.blp, url_prefix="/api/v1")

    # Push: the office's webhook subscriptions and their delivery log (docs/scoring.md, "Webhooks").
    from service.api import webhooks

    api.register_blueprint(webhooks.blp, url_prefix=f"/api/v1/{webhooks.blp.name}")

    # Oversight: supervision notices, reminders and where they go (docs/corrections.md, "Reminders").
    from service.api import oversight

    for blueprint in (oversight.blp, oversight.notifications_blp, oversight.preferences_blp):
        api.register_blueprint(blueprint, url_prefix=f"/api/v1/{blueprint.name}")

    # Knowledge in: the import template and spreadsheet imports (docs/import-export.md).
    from service.api import attachments, imports

    api.register_blueprint(imports.blp, url_prefix=f"/api/v1/{imports.blp.name}")
    api.register_blueprint(attachments.blp, url_prefix="/api/v1")  # hangs off change requests and knowledge

    # Pull: compliance counts, scores and the scoring profiles, for the scoring engine and the office.
    from service.api import compliance

    for blueprint in (compliance.blp, compliance.scores_blp, compliance.profiles_blp):
        api.register_blueprint(blueprint, url_prefix=f"/api/v1/{blueprint.name}")
