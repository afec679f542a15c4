"""What the console shows of the use cases' snapshots: labels and wording, one plain function per thing.

The use cases (kb/services) return frozen snapshots with domain values; the
API's dump schemas (service/schemas) and these functions turn them into what
people read. Templates get the function they need from the view.
"""
from __future__ import annotations

from kb.models import UnitKind
from kb.services.directory import UnitSnapshot


def unit_kind_label(unit: UnitSnapshot) -> str:
    """镇/街道, 区直部门, …"""
    return UnitKind(unit.kind).label
