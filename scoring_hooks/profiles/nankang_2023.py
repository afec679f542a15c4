"""Nankang District (南康区) 2023: 知识库信息采集、更新, 20 points a year.

The rule (年度基础, 热线平台系统统计)::

    对涉企惠民政策、政务服务事项办理等相关业务知识，按一问一答的方式整理成信息上传至
    热线平台知识库的，得10分；其他方式上传得5分；未上传的不得分。对已上传平台知识库
    信息全年更新（或校核）一次，得10分；全年无更新（或校核）此项不得分。经群众反馈由
    市级热线管理中心通知需更新的知识库信息，接通知后2个工作日未更新的，每次扣2分，
    扣分上限10分。

Readings:

* Upload (10): at least one Q&A-format entry published in the period gives
  10; only other-format entries give 5; none gives 0. Scored as a deduction
  of 0, 5 or 10 from the item.
* Update or verification (10): "对已上传平台知识库信息全年更新（或校核）一次，得10分；
  全年无更新（或校核）此项不得分" reads as what it says: the unit updated or
  verified its uploaded knowledge at least once in the year — a published
  modification, deletion or revocation, or a verification (校核) in the
  period — gives 10; none gives 0. Coverage (how many of the published
  entries were touched in the 12 months) is reported in a note, not scored
  (``update_rule: "coverage"`` restores the stricter reading, scored against
  ``coverage_threshold``; ``score_coverage_without_entries`` applies to it).
* A unit whose only entries were uploaded this year did not update or verify
  anything "已上传": the upload half scores the upload, this half gets 0
  (``new_entries_count_as_update: true`` gives the 10 to a unit whose every
  published entry is new in the year: it had nothing older to keep current).
* City notices: each ``city_notice`` task whose fix the unit reported after,
  or still had not reported past, 2 working days costs 2, at most 10 in all.
  The deduction comes off the whole 20-point item (``city_notice_from:
  "item"``), which never goes below 0: the cap of 10 would say nothing if it
  came off the 10-point update half, which cannot lose more than 10 anyway.
  ``city_notice_from: "update"`` takes it from the update half only.
* The item is annual; on a shorter period it is scored on that period's
  counts and a note says so.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Mapping

from kb.compliance import UnitCompliance

from .base import (
    TASK_DEADLINES_SCHEMA,
    BaseProfile,
    Deduction,
    ItemScore,
    ItemTally,
    dec,
    fmt_percent,
    fmt_points,
    points_setting,
    settings_schema,
)


class NankangProfile(BaseProfile):
    name = "nankang-2023"
    title = "南康区2023年度考评·知识库信息采集、更新"
    item = "知识库信息采集、更新"

    defaults = MappingProxyType(
        {
            "qa_upload_points": 10,
            "other_upload_points": 5,
            "coverage_points": 10,
            "update_rule": "any",
            "new_entries_count_as_update": False,
            "coverage_threshold": 1.0,
            "score_coverage_without_entries": False,
            "city_notice_from": "item",
            "city_notice_deduction": 2,
            "city_notice_cap": 10,
            "task_deadlines": MappingProxyType({"city_notice": 2}),
        }
    )
    settings_schema = settings_schema(
        {
            "qa_upload_points": points_setting("按一问一答方式上传知识得分"),
            "other_upload_points": points_setting("仅以其他方式上传知识得分"),
            "coverage_points": points_setting("已上传知识全年更新（或校核）得分"),
            "update_rule": {
                "type": "string",
                "enum": ["any", "coverage"],
                "description": "any：全年有一次更新或校核即得分（按原文）；coverage：已发布知识达到覆盖比例才得分",
            },
            "new_entries_count_as_update": {
                "type": "boolean",
                "description": "已发布知识均为本年新上传时是否视同已更新",
            },
            "city_notice_from": {
                "type": "string",
                "enum": ["item", "update"],
                "description": "市级通知逾期扣分：item 从本项20分中扣；update 只从更新（校核）10分中扣",
            },
            "coverage_threshold": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "update_rule 为 coverage 时：年内更新或校核的已发布知识所占比例达到此值即得分（1.0 为全部）",
            },
            "score_coverage_without_entries": {
                "type": "boolean",
                "description": "无已发布知识时是否给更新（校核）分",
            },
            "city_notice_deduction": points_setting("市级通知更新逾期每次扣分"),
            "city_notice_cap": points_setting("市级通知更新逾期扣分上限"),
            "task_deadlines": TASK_DEADLINES_SCHEMA,
        }
    )

    def score_items(
        self, unit: UnitCompliance, settings: Mapping[str, Any]
    ) -> tuple[list[ItemScore], Mapping[str, Any]]:
        qa_points = dec(settings["qa_upload_points"])
        other_points = dec(settings["other_upload_points"])
        coverage_points = dec(settings["coverage_points"])
        tally = ItemTally(self.item, qa_points + coverage_points)

        if not unit.period.is_full_year:
            tally.note(f"本项为年度考评项，按期间{unit.period.label}的数据计分")

        # Upload: 10 for Q&A format, 5 for other formats only, 0 for none.
        if unit.uploads_qa > 0:
            tally.note(f"按一问一答方式上传知识{unit.uploads_qa}条")
        elif unit.uploads_document > 0:
            tally.deduct(
                "upload_format",
                qa_points - other_points,
                f"仅以其他方式上传知识{unit.uploads_document}条，未按一问一答方式整理，"
                f"得{fmt_points(other_points)}分",
                {"entry_ids": unit.upload_entry_ids},
            )
        else:
            tally.deduct("no_upload", qa_points, "期间内未上传知识，采集项不得分")

        # Update or verification within the year.
        window = unit.period.coverage_window()
        update_points = coverage_points  # what the update half still holds
        if unit.published_entries:
            described = (
                f"已发布知识{unit.published_entries}条，{window.start}至{window.end}更新或校核"
                f"{unit.covered_entries}条（{fmt_percent(Fraction(unit.covered_entries, unit.published_entries))}）"
            )
        else:
            described = "无已发布知识"
        if settings["update_rule"] == "any":
            updates = unit.modifications + unit.deletions + unit.revocations
            all_new = (unit.published_entries > 0 and unit.uploads >= unit.published_entries)
            if updates or unit.verifications:
                tally.note(f"期内更新{updates}次、校核{unit.verifications}次；{described}")
            elif all_new and settings["new_entries_count_as_update"]:
                tally.note(f"已发布知识均为期内新上传，视同已更新；{described}")
            else:
                reason = "全年无更新（或校核），此项不得分"
                if all_new:
                    reason = "已发布知识均为期内新上传，" + reason
                tally.deduct("not_updated", coverage_points, f"{reason}；{described}",
                             {"entry_ids": unit.uncovered_entry_ids})
                update_points = Decimal(0)
        else:
            threshold = Fraction(str(settings["coverage_threshold"]))
            if unit.published_entries == 0:
                if not settings["score_coverage_without_entries"]:
                    tally.deduct("not_updated", coverage_points, "无已发布知识，全年无更新（或校核），此项不得分")
                    update_points = Decimal(0)
            elif Fraction(unit.covered_entries, unit.published_entries) >= threshold:
                tally.note(described)
            else:
                tally.deduct(
                    "not_updated",
                    coverage_points,
                    f"{described}，未达到{fmt_percent(threshold)}，此项不得分",
                    {"entry_ids": unit.uncovered_entry_ids},
                )
                update_points = Decimal(0)

        # City hotline centre notices not acted on within the deadline.
        notices = unit.tasks_by_source["city_notice"]
        if notices.missed:
            each = dec(settings["city_notice_deduction"])
            cap = dec(settings["city_notice_cap"])
            days = settings["task_deadlines"].get("city_notice")
            asked = each * notices.missed
            within = f"接通知后{days}个工作日" if days else "接通知后在规定时限内"
            reason = (
                f"市级热线管理中心通知需更新的知识，{within}未更新{notices.missed}次"
                f"（逾期办结{notices.resolved_late}次、逾期未办{notices.open_overdue}次），"
                f"每次扣{fmt_points(each)}分"
            )
            if asked > cap:
                reason += f"，计{fmt_points(asked)}分，扣分上限{fmt_points(cap)}分"
            amount = min(asked, cap)
            if settings["city_notice_from"] == "update" and amount > update_points:
                reason += f"；只从更新（校核）分中扣，该部分余{fmt_points(update_points)}分"
                amount = update_points
            tally.deduct("city_notice_late", amount, reason, {"task_ids": notices.missed_task_ids})
            if amount == 0:  # still listed, for its evidence
                tally.deductions.append(Deduction("city_notice_late", 0, reason, {"task_ids": notices.missed_task_ids}))
        if notices.office_late:
            tally.note(f"另有{notices.office_late}次单位按时报送、热线办发布超期，不扣单位分")

        return [tally.build()], {}


PROFILE = NankangProfile()
