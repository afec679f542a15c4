"""Changzhou Education Bureau (常州市教育局): Ⅲ—12 知识库管理, 10 points.

The rule (Ⅱ—6 及时向局办公室报送业务知识信息)::

    （1）每月及时更新规范性文件、问答式题库等知识库内容并及时上报，未报、漏报、报送
        不及时的每次扣1分；
    （2）知识库使用错误率在10%以下，每增加1个百分点扣1分。

Readings:

* (1) Each month of the period in which the unit published no change
  (``months_without_change``) is one missed report: −1. "更新…知识库内容"
  changes content; a verification (校核) confirms it unchanged, so a month
  with verifications only is not an update (``verification_counts_as_update:
  true`` counts it, using ``months_without_update``). Only months that have
  ended are judged (a running month is not missed yet), and months that ended
  before the unit existed are not missed. The records show whether a month had
  an update, not whether a report was partial (漏报) or late (报送不及时); those
  stay with the office.
* (2) The error rate is ``usages_confirmed_wrong / usages``, computed exactly
  (fractions, no floating point). At or below the threshold (10%) nothing is
  deducted, 10.0% included. Above it, each *whole* percentage point above
  the threshold costs 1: 10.9% → 0, 11.0% → 1, 12.5% → 2 ("每增加1个百分点":
  a point counts once it has been reached). Setting ``error_rate_rounding``
  to ``"ceil"`` counts a started point instead (10.1% → 1). No usage in the
  period: no rate, no deduction, a note says so.
* A wrong use is a use of an entry version with a wrong-answer flag the
  office accepted; when the office later agreed with the unit that the
  answer was right (the flag's task declined), those uses are not wrong.
* The scoring is by deduction (说明：采用扣分制); both parts come off the
  same 10 points, which do not go below 0.
"""

from __future__ import annotations

import math
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Mapping

from kb.compliance import UnitCompliance

from .base import (
    TASK_DEADLINES_SCHEMA,
    BaseProfile,
    ItemScore,
    ItemTally,
    dec,
    fmt_percent,
    fmt_points,
    points_setting,
    settings_schema,
)


class ChangzhouEduProfile(BaseProfile):
    name = "changzhou-edu"
    title = "常州市教育局考核·知识库管理"
    item = "Ⅲ—12 知识库管理"

    defaults = MappingProxyType(
        {
            "max_points": 10,
            "monthly_deduction": 1,
            "verification_counts_as_update": False,
            "error_rate_threshold": 0.10,
            "error_rate_deduction": 1,
            "error_rate_rounding": "floor",
            "task_deadlines": MappingProxyType({}),
        }
    )
    settings_schema = settings_schema(
        {
            "max_points": points_setting("知识库管理分值"),
            "monthly_deduction": points_setting("每月未更新上报扣分"),
            "verification_counts_as_update": {
                "type": "boolean",
                "description": "只有校核（确认无变化）的月份是否算作已更新",
            },
            "error_rate_threshold": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "使用错误率达标线（0.10 即 10%），不超过此值不扣分",
            },
            "error_rate_deduction": points_setting("错误率每超过1个百分点扣分"),
            "error_rate_rounding": {
                "type": "string",
                "enum": ["floor", "ceil"],
                "description": "超出部分不足1个百分点时：floor 不计，ceil 计为1个百分点",
            },
            "task_deadlines": TASK_DEADLINES_SCHEMA,
        }
    )

    def score_items(
        self, unit: UnitCompliance, settings: Mapping[str, Any]
    ) -> tuple[list[ItemScore], Mapping[str, Any]]:
        tally = ItemTally(self.item, settings["max_points"])

        # (1) monthly update and report.
        if settings["verification_counts_as_update"]:
            months, what = unit.months_without_update, "未更新或校核知识库内容"
        else:
            months, what = unit.months_without_change, "未更新知识库内容"
        if months:
            each = dec(settings["monthly_deduction"])
            only_verified = sorted(set(months) - set(unit.months_without_update))
            detail = f"（其中{'、'.join(only_verified)}仅有校核，不算更新）" if only_verified else ""
            tally.deduct(
                "month_not_updated",
                each * len(months),
                f"{'、'.join(months)}{what}{detail}，共{len(months)}个月，每月扣{fmt_points(each)}分",
                {"months": months},
            )

        # (2) usage error rate.
        if unit.usages == 0:
            tally.note("期间内无知识库使用记录，不计使用错误率")
        else:
            rate = Fraction(unit.usages_confirmed_wrong, unit.usages)
            threshold = Fraction(str(settings["error_rate_threshold"]))
            above = (rate - threshold) * 100  # percentage points above the threshold
            rounding = math.floor if settings["error_rate_rounding"] == "floor" else math.ceil
            points_above = rounding(above) if above > 0 else 0
            described = (
                f"知识库使用{unit.usages}次，确认错误{unit.usages_confirmed_wrong}次，"
                f"错误率{fmt_percent(rate)}"
            )
            if points_above > 0:
                each = dec(settings["error_rate_deduction"])
                tally.deduct(
                    "usage_error_rate",
                    each * points_above,
                    f"{described}，超过{fmt_percent(threshold)}计{points_above}个百分点，"
                    f"每个百分点扣{fmt_points(each)}分",
                    {"usages": (unit.usages,), "usages_confirmed_wrong": (unit.usages_confirmed_wrong,)},
                )
            elif above > 0:
                tally.note(f"{described}，超过{fmt_percent(threshold)}不足1个百分点，不扣分")
            else:
                tally.note(f"{described}，不超过{fmt_percent(threshold)}，不扣分")

        return [tally.build()], {}


PROFILE = ChangzhouEduProfile()
