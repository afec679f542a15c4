"""All models, imported so their tables are on the metadata."""
from kb.models.attachments import Attachment, VersionAttachment
from kb.models.audit import AuditEvent, SearchOutbox
from kb.models.calendar import CalendarOverride, ConfirmedYear, OverrideKind
from kb.models.jobs import JobRun, SchedulerLease
from kb.models.knowledge import (
    CONTENT_FIELDS, Category, ChangeKind, ChangeRequest, EntryFormat, EntryStatus, KnowledgeEntry,
    KnowledgeVerification, KnowledgeVersion, Review)
from kb.models.scoring import ComplianceSnapshot, WebhookAttempt, WebhookDelivery, WebhookSubscription
from kb.models.oversight import (
    Channel, Notification, NotificationCursor, SupervisionNotice, UnitRobot, UserContact)
from kb.models.policies import PolicyDocument, PolicyStatus, PolicyStatusChange
from kb.models.search import KnowledgeUsage, SearchLog, SearchSettingsRevision, SynonymGroup
from kb.models.tasks import (
    CorrectionTask, FlagCause, FlagKind, FlagState, KnowledgeFlag, ReminderKind, TaskEvent, TaskReminder, TaskState)
from kb.models.units import ApiToken, CredentialEpoch, LoginAttempt, LoginSession, Role, Unit, UnitKind, User

__all__ = [
    "Channel", "Notification", "NotificationCursor", "SupervisionNotice", "UnitRobot", "UserContact",
    "KnowledgeUsage", "SearchLog", "SearchSettingsRevision", "SynonymGroup",
    "ApiToken", "AuditEvent", "CredentialEpoch", "LoginAttempt", "LoginSession", "CONTENT_FIELDS", "Category", "ChangeKind", "ChangeRequest", "EntryFormat",
    "EntryStatus", "KnowledgeEntry", "KnowledgeVersion", "Review", "Role", "SearchOutbox", "Unit",
    "UnitKind", "User",
    "CalendarOverride", "ConfirmedYear", "OverrideKind", "JobRun", "SchedulerLease", "PolicyDocument",
    "PolicyStatus", "PolicyStatusChange", "CorrectionTask", "FlagCause", "FlagKind", "FlagState", "KnowledgeFlag",
    "ReminderKind", "TaskEvent", "TaskReminder", "TaskState",
    "Attachment", "VersionAttachment",
    "KnowledgeVerification", "ComplianceSnapshot", "WebhookAttempt", "WebhookDelivery", "WebhookSubscription",
]
