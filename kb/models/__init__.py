"""All models, imported so their tables are on the metadata."""
from kb.models.audit import AuditEvent, SearchOutbox
from kb.models.calendar import CalendarOverride, ConfirmedYear, OverrideKind
from kb.models.jobs import JobRun, SchedulerLease
from kb.models.knowledge import (
    CONTENT_FIELDS, Category, ChangeKind, ChangeRequest, EntryFormat, EntryStatus, KnowledgeEntry,
    KnowledgeVerification, KnowledgeVersion, Review)
from kb.models.scoring import ComplianceSnapshot, WebhookAttempt, WebhookDelivery, WebhookSubscription
from kb.models.policies import PolicyDocument, PolicyStatus, PolicyStatusChange
from kb.models.search import KnowledgeUsage, SearchLog, SearchSettingsRevision, SynonymGroup
from kb.models.tasks import (
    CorrectionTask, FlagCause, FlagKind, FlagState, KnowledgeFlag, ReminderKind, TaskEvent, TaskReminder, TaskState)
from kb.models.units import ApiToken, Role, Unit, UnitKind, User

__all__ = [
    "KnowledgeUsage", "SearchLog", "SearchSettingsRevision", "SynonymGroup",
    "ApiToken", "AuditEvent", "CONTENT_FIELDS", "Category", "ChangeKind", "ChangeRequest", "EntryFormat",
    "EntryStatus", "KnowledgeEntry", "KnowledgeVersion", "Review", "Role", "SearchOutbox", "Unit",
    "UnitKind", "User",
    "CalendarOverride", "ConfirmedYear", "OverrideKind", "JobRun", "SchedulerLease", "PolicyDocument",
    "PolicyStatus", "PolicyStatusChange", "CorrectionTask", "FlagCause", "FlagKind", "FlagState", "KnowledgeFlag",
    "ReminderKind", "TaskEvent", "TaskReminder", "TaskState",
    "KnowledgeVerification", "ComplianceSnapshot", "WebhookAttempt", "WebhookDelivery", "WebhookSubscription",
]
