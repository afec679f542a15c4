"""All models, imported so their tables are on the metadata."""
from kb.models.audit import AuditEvent, SearchOutbox
from kb.models.knowledge import (
    CONTENT_FIELDS, Category, ChangeKind, ChangeRequest, EntryFormat, EntryStatus, KnowledgeEntry,
    KnowledgeVersion, Review)
from kb.models.search import KnowledgeUsage, SearchLog, SearchSettingsRevision, SynonymGroup
from kb.models.units import ApiToken, Role, Unit, UnitKind, User

__all__ = [
    "KnowledgeUsage", "SearchLog", "SearchSettingsRevision", "SynonymGroup",
    "ApiToken", "AuditEvent", "CONTENT_FIELDS", "Category", "ChangeKind", "ChangeRequest", "EntryFormat",
    "EntryStatus", "KnowledgeEntry", "KnowledgeVersion", "Review", "Role", "SearchOutbox", "Unit",
    "UnitKind", "User",
]
