"""The office's monthly 通报 (Licheng Art. 15; Changzhou's monthly report): units ranked by their score
under one profile for a closed month, with their counts, late and overdue items and the change from
the month before; as rows for a printable page and as an xlsx workbook."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kb.compliance import ComplianceReport, UnitCompliance
from scoring_hooks.exports import Column, deduction_details, to_xlsx
from scoring_hooks.profiles.base import UnitScore


@dataclass(frozen=True)
class BulletinRow:
    rank: int
    unit_code: str
    unit_name: str
    points: float
    max_points: float
    previous_points: float | None
    uploads: int
    modifications: int
    verifications: int
    resolved_late: int
    open_overdue: int
    late_task_ids: tuple[int, ...]
    overdue_task_ids: tuple[int, ...]
    deductions: str

    @property
    def change(self) -> float | None:
        """Month on month: points now less points the month before (None for a unit new this month)."""
        return None if self.previous_points is None else round(self.points - self.previous_points, 2)


def rows(scores: Sequence[UnitScore], report: ComplianceReport,
         previous: Sequence[UnitScore] = ()) -> list[BulletinRow]:
    """Ranked best first; equal points share a rank (1, 2, 2, 4), ties listed by unit code."""
    counts: dict[str, UnitCompliance] = {u.unit_code: u for u in report.units}
    before = {s.unit_code: s.points for s in previous}
    ordered = sorted(scores, key=lambda s: (-s.points, s.unit_code))
    out: list[BulletinRow] = []
    for position, score in enumerate(ordered, start=1):
        rank = out[-1].rank if out and out[-1].points == score.points else position
        unit = counts[score.unit_code]
        tasks = unit.tally(*unit.tasks_by_source)
        out.append(BulletinRow(
            rank=rank, unit_code=score.unit_code, unit_name=score.unit_name, points=score.points,
            max_points=score.max_points, previous_points=before.get(score.unit_code),
            uploads=unit.uploads_qa + unit.uploads_document, modifications=unit.modifications,
            verifications=unit.verifications, resolved_late=tasks.resolved_late, open_overdue=tasks.open_overdue,
            late_task_ids=tuple(tasks.late_task_ids), overdue_task_ids=tuple(tasks.overdue_task_ids),
            deductions=deduction_details(score)))
    return out


COLUMNS: tuple[Column, ...] = (
    Column("rank", "排名", lambda r: r.rank),
    Column("unit_code", "单位编码", lambda r: r.unit_code),
    Column("unit_name", "单位名称", lambda r: r.unit_name),
    Column("points", "得分", lambda r: r.points),
    Column("max_points", "满分", lambda r: r.max_points),
    Column("change", "环比", lambda r: r.change),
    Column("uploads", "新增", lambda r: r.uploads),
    Column("modifications", "修改", lambda r: r.modifications),
    Column("verifications", "校核", lambda r: r.verifications),
    Column("resolved_late", "逾期办结", lambda r: r.resolved_late),
    Column("open_overdue", "逾期未办", lambda r: r.open_overdue),
    Column("deductions", "扣分明细", lambda r: r.deductions),
)


def to_workbook(bulletin_rows: Sequence[BulletinRow], title: str) -> bytes:
    return to_xlsx(bulletin_rows, COLUMNS, title)
