"""The public interface that scoring uses: per-unit compliance counts, monthly snapshots, webhook deliveries.

``scoring_hooks`` imports only this package (and ``kb.deadlines``): frozen
records (``records``), the queries that fill them from the database
(``counts``), the monthly close (``snapshots``) and the delivery queue of
the webhooks (kept with the other webhook steps in
``kb.services.webhook_deliveries``, re-exported here). Nothing here hands out
ORM objects.
"""
from kb.compliance.records import TASK_SOURCE_TITLES, TASK_SOURCES, Period, TaskTally, UnitCompliance
from kb.compliance.counts import UNCATEGORISED, as_of_for, compliance_for, deadline_rules
from kb.compliance.snapshots import (
    ClosedMonthSnapshot, ComplianceReport, close_month, closed_months, compliance_report, last_ended_month, recompute_month, rules_key)
from kb.db import UowFactory
from kb.sealing import SecretBox
from kb.services.webhook_deliveries import EVENT_LABELS, EVENTS, PendingDelivery, claim_due_deliveries, record_attempt

__all__ = [
    "TASK_SOURCES",
    "TASK_SOURCE_TITLES",
    "Period",
    "TaskTally",
    "UnitCompliance",
    "UNCATEGORISED",
    "ClosedMonthSnapshot",
    "ComplianceReport",
    "as_of_for",
    "close_month",
    "closed_months",
    "compliance_for",
    "compliance_report",
    "deadline_rules",
    "last_ended_month",
    "recompute_month",
    "rules_key",
    "EVENTS",
    "EVENT_LABELS",
    "PendingDelivery",
    "claim_due_deliveries",
    "record_attempt",
    "UowFactory",
    "SecretBox",
]
