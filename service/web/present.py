"""What the console shows of the use cases' snapshots: labels and wording, one plain function per thing.

The use cases (kb/services) return frozen snapshots with domain values; the
API's dump schemas (service/schemas) and these functions turn them into what
people read. Templates get the function they need from the view.
"""
from __future__ import annotations

from kb.models import UnitKind
from kb.services.directory import UnitSnapshot
from kb.services.oversight import NoticeSnapshot
from kb.services.tasks import OUTCOME_LABELS


def unit_kind_label(unit: UnitSnapshot) -> str:
    """镇/街道, 区直部门, …"""
    return UnitKind(unit.kind).label


def notice_outcome_label(notice: NoticeSnapshot) -> str:
    """办理结果 of a supervision notice: 超期未办结, 超期办结, …"""
    return OUTCOME_LABELS[notice.outcome]
