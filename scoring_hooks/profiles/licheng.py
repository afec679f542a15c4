"""Licheng District (历城区): 信息报送 (附件1) and the periodic report of Art. 15 (附件2).

附件1, 额外加分项::

    信息报送情况（每篇0.1分，根据日常考核记录计分） 4

附件2 第十五条::

    根据《历城区12345市民服务热线工作考核办法》对承办单位知识库维护工作实行量化考评，
    建立责任追究制度，定期通报智能化知识库更新和维护情况。

Readings:

* 信息报送 is a bonus item "每篇0.1分", at most 4. A 篇 is a piece of content
  the unit submitted that the office published (Art. 8: 采集→审核→发布, the
  office publishes what the unit sends). Counted: new entries (uploads of
  any format) and modifications of standard answers (Art. 7(一) lists both
  as what a unit 上报s). Not counted: deletions and revocations (no content
  is submitted) and verifications (nothing is sent). The setting
  ``piece_kinds`` names what counts (``new``, ``modify``, ``delete``,
  ``revoke``; default new and modify); ``count_modifications: false`` (the
  older setting) still leaves modifications out. 附件1 may also cover
  information pieces outside the knowledge base (工作信息); those are the
  office's to add.
* The cap of 4 is for the assessment year ("（ ）年…计分表"); scored on a
  shorter period the cap applies to that period, so sum pieces over the year
  before applying it.
* Art. 15's quantified scoring refers to the district's scoring rules
  (附件1), whose only knowledge-base item is 信息报送; the "定期通报" is the
  ``report``: new, modified, deleted (deletions + revocations), verified,
  and the correction tasks received, resolved on time, resolved late, open
  overdue and declined, in total and per source.
* Deadlines: Art. 10 (errors found by the unit, policy changes) and Art. 13
  (office feedback) give 5 working days; Art. 10(三) (emergencies) says
  only "及时", so it keeps the system default.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from kb.compliance import TASK_SOURCES, UnitCompliance

from .base import (
    TASK_DEADLINES_SCHEMA,
    BaseProfile,
    ItemScore,
    ItemTally,
    dec,
    fmt_points,
    points_setting,
    settings_schema,
)


def _tasks(tally) -> dict[str, Any]:
    return {
        "received": tally.received,
        "resolved_on_time": tally.resolved_on_time,
        "resolved_late": tally.resolved_late,
        "open_overdue": tally.open_overdue,
        "declined": tally.declined,
        "office_late": tally.office_late,
    }


#: What a piece (篇) can be, with its Chinese name.
PIECE_KINDS = {"new": "新增知识", "modify": "修改规范答案", "delete": "删除失效知识", "revoke": "撤销知识",
               "suggestion": "被采纳的知识建议"}


def _pieces_of(unit: UnitCompliance, kind: str) -> int:
    return {"new": unit.uploads, "modify": unit.modifications, "delete": unit.deletions,
            "revoke": unit.revocations, "suggestion": unit.unit_suggestions_accepted}[kind]


class LichengProfile(BaseProfile):
    name = "licheng"
    title = "历城区知识库管理办法·信息报送与维护通报"
    item = "信息报送"

    defaults = MappingProxyType(
        {
            "points_per_piece": 0.1,
            "max_points": 4,
            "count_modifications": True,
            "piece_kinds": ("new", "modify"),
            "task_deadlines": MappingProxyType(
                {"office_feedback": 5, "unit_self_found": 5, "policy_change": 5}
            ),
        }
    )
    settings_schema = settings_schema(
        {
            "points_per_piece": points_setting("信息报送每篇得分"),
            "max_points": points_setting("信息报送最高得分"),
            "count_modifications": {"type": "boolean", "description": "修改规范答案是否计为报送篇数（false 时不计，优先于 piece_kinds）"},
            "piece_kinds": {
                "type": "array",
                "items": {"type": "string", "enum": list(PIECE_KINDS)},
                "uniqueItems": True,
                "description": "计为一篇信息报送的已发布变更：new 新增、modify 修改、delete 删除、revoke 撤销、"
                               "suggestion 被采纳的知识建议",
            },
            "task_deadlines": TASK_DEADLINES_SCHEMA,
        }
    )

    def score_items(
        self, unit: UnitCompliance, settings: Mapping[str, Any]
    ) -> tuple[list[ItemScore], Mapping[str, Any]]:
        kinds = [k for k in PIECE_KINDS if k in settings["piece_kinds"]
                 and (k != "modify" or settings["count_modifications"])]
        pieces = sum(_pieces_of(unit, k) for k in kinds)
        each = dec(settings["points_per_piece"])
        cap = dec(settings["max_points"])
        earned = each * pieces
        tally = ItemTally(self.item, cap)
        counted = "、".join(f"{PIECE_KINDS[k]}{_pieces_of(unit, k)}条" for k in kinds) or "不计任何变更"
        tally.note(f"{counted}，共{pieces}篇，每篇{fmt_points(each)}分，计{fmt_points(earned)}分")
        if earned > cap:
            tally.note(f"超过上限，按{fmt_points(cap)}分计")
            earned = cap

        all_tasks = unit.tally()
        report = {
            "new": unit.uploads,
            "new_qa": unit.uploads_qa,
            "new_document": unit.uploads_document,
            "new_by_category": dict(unit.uploads_by_category),
            "modified": unit.modifications,
            "deleted": unit.deletions + unit.revocations,
            "deletions": unit.deletions,
            "revocations": unit.revocations,
            "verified": unit.verifications,
            "suggestions_accepted": unit.unit_suggestions_accepted,
            "suggestions_declined": unit.unit_suggestions_declined,
            "published_entries": unit.published_entries,
            "covered_entries": unit.covered_entries,
            "tasks": _tasks(all_tasks),
            "tasks_by_source": {s: _tasks(unit.tasks_by_source[s]) for s in TASK_SOURCES},
            "late_task_ids": list(all_tasks.late_task_ids),
            "overdue_task_ids": list(all_tasks.overdue_task_ids),
            "pieces": pieces,
        }
        return [tally.build(points=earned)], report


PROFILE = LichengProfile()
