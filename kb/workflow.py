"""The change-request state machine, as a table. Pure.

draft → unit_review → office_review → published, with returns to `returned`
at either review (reworked and resubmitted from there). The office may publish
urgent knowledge straight from any open state (Art. 10(3)).
"""
from __future__ import annotations

from enum import StrEnum

from kb.errors import InvalidTransition, ValidationFailed


class State(StrEnum):
    DRAFT = "draft"
    UNIT_REVIEW = "unit_review"
    OFFICE_REVIEW = "office_review"
    RETURNED = "returned"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    DECLINED = "declined"  # a suggestion the office did not take up, with its reason

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.DRAFT: "草稿", State.UNIT_REVIEW: "单位审核中", State.OFFICE_REVIEW: "热线办审核中",
    State.RETURNED: "已退回", State.PUBLISHED: "已发布", State.CANCELLED: "已撤回", State.DECLINED: "未采纳",
}


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    UNIT_APPROVE = "unit_approve"
    UNIT_RETURN = "unit_return"
    OFFICE_PUBLISH = "office_publish"
    OFFICE_RETURN = "office_return"
    PUBLISH_URGENT = "publish_urgent"
    CANCEL = "cancel"
    OFFICE_DECLINE = "office_decline"  # suggestions only


TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.DRAFT, Action.EDIT): State.DRAFT,
    (State.RETURNED, Action.EDIT): State.RETURNED,
    (State.DRAFT, Action.SUBMIT): State.UNIT_REVIEW,
    (State.RETURNED, Action.SUBMIT): State.UNIT_REVIEW,
    (State.UNIT_REVIEW, Action.UNIT_APPROVE): State.OFFICE_REVIEW,
    (State.UNIT_REVIEW, Action.UNIT_RETURN): State.RETURNED,
    (State.OFFICE_REVIEW, Action.OFFICE_PUBLISH): State.PUBLISHED,
    (State.OFFICE_REVIEW, Action.OFFICE_RETURN): State.RETURNED,
    (State.OFFICE_REVIEW, Action.OFFICE_DECLINE): State.DECLINED,
    (State.DRAFT, Action.PUBLISH_URGENT): State.PUBLISHED,
    (State.RETURNED, Action.PUBLISH_URGENT): State.PUBLISHED,
    (State.UNIT_REVIEW, Action.PUBLISH_URGENT): State.PUBLISHED,
    (State.OFFICE_REVIEW, Action.PUBLISH_URGENT): State.PUBLISHED,
    (State.DRAFT, Action.CANCEL): State.CANCELLED,
    (State.RETURNED, Action.CANCEL): State.CANCELLED,
}


def next_state(current: str, action: Action) -> State:
    try:
        return TRANSITIONS[(State(current), action)]
    except KeyError:
        raise InvalidTransition(
            f"“{State(current).label}”状态下不能执行“{ACTION_LABELS[action]}”",
            details={"state": current, "action": action.value}) from None


ACTION_LABELS = {
    Action.EDIT: "修改草稿", Action.SUBMIT: "提交审核", Action.UNIT_APPROVE: "单位审核通过",
    Action.UNIT_RETURN: "单位审核退回", Action.OFFICE_PUBLISH: "热线办发布",
    Action.OFFICE_RETURN: "热线办退回", Action.PUBLISH_URGENT: "紧急直接发布", Action.CANCEL: "撤回",
    Action.OFFICE_DECLINE: "热线办不采纳",
}


class Check(StrEnum):
    """The four review checks of Art. 9."""

    NO_TYPOS = "no_typos"                    # 无错别字
    CLEAR = "clear"                          # 表述清晰、无歧义
    ANSWER_MATCHES = "answer_matches"        # 答案与问题对应
    ACCURATE_WITH_BASIS = "accurate_with_basis"  # 准确、有政策依据，不扩大或缩小政策范围

    @property
    def label(self) -> str:
        return {"no_typos": "无错别字", "clear": "表述清晰、无歧义", "answer_matches": "答案与问题对应",
                "accurate_with_basis": "内容准确、有政策依据，未扩大或缩小政策范围"}[self.value]


def unit_review_outcome(checks: dict[str, bool], approve: bool, reason: str | None) -> Action:
    """Turn a unit reviewer's decision into an action, enforcing Art. 9.

    Approval needs all four checks passed; a return names at least one failed
    check or gives a reason.
    """
    missing = [c.value for c in Check if c.value not in checks]
    if missing:
        raise ValidationFailed({"checks": {m: "须逐项填写审核结果" for m in missing}},
                               "审核须逐项记录第九条的四项检查")
    unknown = set(checks) - {c.value for c in Check}
    if unknown:
        raise ValidationFailed({"checks": {u: "未知的检查项" for u in sorted(unknown)}})
    failed = [c for c in Check if not checks[c.value]]
    if approve:
        if failed:
            raise ValidationFailed(
                {"checks": {c.value: f"未通过：{c.label}" for c in failed}},
                "四项检查均通过才能审核通过")
        return Action.UNIT_APPROVE
    if not failed and not (reason and reason.strip()):
        raise ValidationFailed({"reason": "退回须注明未通过的检查项或退回原因"})
    return Action.UNIT_RETURN
