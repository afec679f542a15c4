"""Huantai County (桓台县) 2017: 三、数据资料库维护, 10 points.

The rules (附件1)::

    3.1 及时完善、更新数据资料库，按一问一答形式对单位政策、信息及时上传更新，确保
        时效性和准确性。（3分）未及时完善、更新问答式知识库，单位政策、信息提供不准确
        且未能及时发现与修改的，每一次扣2分。
    3.2 积极处理热线受理人员对单位信息知识库更新维护建议。（3分）未积极应答处理热线
        受理人员对单位信息知识库更新维护建议的，每一次扣2分。
    3.3 部门出台的全县性新政策，及时与中心对接，可适时对热线人员进行培训。（4分）
        因新政策对接不及时造成向群众解答或工单交办错误的，每件扣1分。

Readings:

* 3.1: "each time" is a correction/update task the unit did not finish in
  time: resolved late or open past its due date, from the sources
  ``office_feedback``, ``unit_self_found``, ``city_notice``,
  ``yearly_verification`` and ``emergency`` (setting ``update_sources``).
  Operator suggestions are left to 3.2 and new policies to 3.3, so no task
  is counted twice.
* 3.2: each operator suggestion or wrong-answer flag left without any
  response past its deadline (``suggestions_not_acted``) costs 2.
* 3.3: the table deducts per wrong answer or wrong dispatch *caused* by a late
  hand-over ("因新政策对接不及时造成向群众解答或工单交办错误的，每件扣1分"), not per
  late policy. A wrong-answer flag carries its cause: when the office accepts
  it as caused by a new policy handed over late (``cause: late_policy``), it
  counts (``wrong_answers_late_policy``); a late policy that caused no wrong
  answer costs nothing here (``policy_count: "tasks"`` counts each
  ``policy_sources`` task resolved late or open overdue instead).
* "未及时完善、更新" judges the unit: a fix the unit reported in time counts
  as in time, however long the office then took to publish it.
* Each sub-item is deducted to zero and no further ("扣完后再从总分值继续扣分"
  appears only in section 二, not here); the item is the sum of the three.
* "及时" names no number of days, so the deadlines are the system defaults
  (``task_deadlines`` is empty; set it to require particular ones).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from kb.compliance import TASK_SOURCE_TITLES, TASK_SOURCES, UnitCompliance

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

_SOURCES_SCHEMA = {
    "type": "array",
    "items": {"type": "string", "enum": list(TASK_SOURCES)},
    "uniqueItems": True,
}


class HuantaiProfile(BaseProfile):
    name = "huantai-2017"
    title = "桓台县2017年度考核·数据资料库维护"

    defaults = MappingProxyType(
        {
            "update_max": 3,
            "update_deduction": 2,
            "update_sources": (
                "office_feedback",
                "unit_self_found",
                "city_notice",
                "yearly_verification",
                "emergency",
            ),
            "suggestion_max": 3,
            "suggestion_deduction": 2,
            "policy_max": 4,
            "policy_deduction": 1,
            "policy_count": "flags",
            "policy_sources": ("policy_change",),
            "task_deadlines": MappingProxyType({}),
        }
    )
    settings_schema = settings_schema(
        {
            "update_max": points_setting("3.1 完善、更新数据资料库分值"),
            "update_deduction": points_setting("3.1 未及时更新或纠错每次扣分"),
            "update_sources": {**_SOURCES_SCHEMA, "description": "3.1 计入的任务来源"},
            "suggestion_max": points_setting("3.2 处理话务员更新维护建议分值"),
            "suggestion_deduction": points_setting("3.2 未处理建议每次扣分"),
            "policy_max": points_setting("3.3 新政策及时对接分值"),
            "policy_deduction": points_setting("3.3 新政策对接不及时每件扣分"),
            "policy_count": {
                "type": "string",
                "enum": ["flags", "tasks"],
                "description": "3.3 计数：flags 按热线办认定的因新政策对接不及时造成的错误解答（按原文）；"
                               "tasks 按逾期的政策任务",
            },
            "policy_sources": {**_SOURCES_SCHEMA, "description": "3.3 policy_count 为 tasks 时计入的任务来源"},
            "task_deadlines": TASK_DEADLINES_SCHEMA,
        }
    )

    def score_items(
        self, unit: UnitCompliance, settings: Mapping[str, Any]
    ) -> tuple[list[ItemScore], Mapping[str, Any]]:
        # 3.1 knowledge not updated, or wrong and not corrected in time.
        update = ItemTally("3.1 完善、更新数据资料库", settings["update_max"])
        sources = tuple(settings["update_sources"])
        missed = unit.tally(*sources) if sources else None
        if missed is not None and missed.missed:
            each = dec(settings["update_deduction"])
            parts = "、".join(
                f"{TASK_SOURCE_TITLES[s]}{unit.tasks_by_source[s].missed}次"
                for s in sources
                if unit.tasks_by_source[s].missed
            )
            update.deduct(
                "update_late",
                each * missed.missed,
                f"知识未及时更新或纠错{missed.missed}次（{parts}），每次扣{fmt_points(each)}分",
                {"task_ids": missed.missed_task_ids},
            )

        # 3.2 operator suggestions not acted on.
        suggestion = ItemTally("3.2 处理话务员更新维护建议", settings["suggestion_max"])
        if unit.suggestions_not_acted:
            each = dec(settings["suggestion_deduction"])
            suggestion.deduct(
                "suggestion_not_acted",
                each * unit.suggestions_not_acted,
                f"未应答处理话务员知识库更新维护建议{unit.suggestions_not_acted}次，每次扣{fmt_points(each)}分",
                {"suggestion_ids": unit.suggestion_ids_not_acted},
            )
        if unit.suggestions_received:
            suggestion.note(
                f"收到建议{unit.suggestions_received}条，及时处理{unit.suggestions_acted_in_time}条"
            )

        # 3.3 new policies handed over late.
        policy = ItemTally("3.3 新政策及时对接", settings["policy_max"])
        policy_sources = tuple(settings["policy_sources"])
        late = unit.tally(*policy_sources) if policy_sources else None
        if settings["policy_count"] == "flags":
            late = None
            if unit.wrong_answers_late_policy:
                each = dec(settings["policy_deduction"])
                policy.deduct(
                    "policy_late",
                    each * unit.wrong_answers_late_policy,
                    f"因新政策对接不及时造成解答错误{unit.wrong_answers_late_policy}件，每件扣{fmt_points(each)}分",
                    {"flag_ids": unit.late_policy_flag_ids},
                )
        if late is not None and late.missed:
            each = dec(settings["policy_deduction"])
            policy.deduct(
                "policy_late",
                each * late.missed,
                f"新政策对接不及时{late.missed}件（逾期办结{late.resolved_late}件、逾期未办"
                f"{late.open_overdue}件），每件扣{fmt_points(each)}分",
                {"task_ids": late.missed_task_ids},
            )

        return [update.build(), suggestion.build(), policy.build()], {}


PROFILE = HuantaiProfile()
