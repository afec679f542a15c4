"""Change requests: collect → unit review → office review → publish (Art. 7–9).

Steps take a session, flush and never commit: `draft` (a new change request,
with its warnings), `submit_for_review`, `review_by_unit`,
`return_by_office`, `publish` (make it live, recording `ChangePublished`);
`_move` is the state change with its review and audit event they share. Other use cases combine them
in their own transactions (`kb.services.task_changes` drafts the fix of a
correction task and links it in one).

Each other public function taking a unit of work is one use case: it opens the
unit of work, loads, moves the state through `kb.workflow`, dispatches the
events its steps recorded (`kb.services.reactions`) and commits once. It
answers a `ChangeRequestSnapshot`, taken inside the transaction; the proposed
content travels as a `kb.proposal.Proposal`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb import citations, events
from kb.access import Actor, can_see_unpublished, require_role, require_unit_scope
from kb.calendar import to_shanghai
from kb.db import UnitOfWork
from kb.errors import (
    InvalidTransition, NotFound, PermissionDenied, PreconditionRequired, StaleVersion, ValidationFailed)
from kb.models import (
    CONTENT_FIELDS, Category, ChangeKind, ChangeRequest, EntryFormat, EntryStatus, KnowledgeEntry,
    KnowledgeVersion, Review, Role, Unit)
from kb.proposal import Proposal
from kb.search import outbox
from kb.services import attachments, audit, reactions
from kb.submission import Warning, check_proposal, normalize_doc_number, question_key
from kb.workflow import Action, Check, State, next_state, unit_review_outcome

REQUIRED_FOR_SUBMIT = {"question": "问题", "answer": "答案", "category_id": "分类", "effective_on": "生效日期"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewSnapshot:
    """A unit or office decision on a change request."""

    stage: str                  # unit | office
    decision: str               # approve | return | publish | accept | decline
    checks: dict[str, bool]     # Art. 9's four checks, by name
    reason: str | None
    reviewer_id: int
    decided_at: datetime
    amendments: dict[str, Any] | None  # the unit reviewer's changes: field → {before, after} (JSON values)
    based_on_revision: int | None

    @classmethod
    def of(cls, review: Review) -> ReviewSnapshot:
        return cls(stage=review.stage, decision=review.decision, checks=dict(review.checks or {}),
                   reason=review.reason, reviewer_id=review.reviewer_id, decided_at=review.decided_at,
                   amendments=dict(review.amendments) if review.amendments is not None else None,
                   based_on_revision=review.based_on_revision)


@dataclass(frozen=True, slots=True, kw_only=True)
class SuggestionOutcomeSnapshot:
    """What the office decided on a unit's suggestion, as the unit reads it."""

    outcome: str  # accepted | declined
    reason: str | None
    decided_at: datetime

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    @classmethod
    def of(cls, cr: ChangeRequest) -> SuggestionOutcomeSnapshot | None:
        """None for anything but a suggestion, and before the office decided on it."""
        if cr.kind != ChangeKind.SUGGESTION.value:
            return None
        decided = [r for r in cr.reviews if r.stage == "office" and r.decision in ("accept", "publish", "decline")]
        if not decided:
            return None
        last = decided[-1]
        return cls(outcome="declined" if last.decision == "decline" else "accepted", reason=last.reason,
                   decided_at=last.decided_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRequestSnapshot:
    """A change request with its reviews, and the warnings its proposal gets (when they were asked for)."""

    id: int
    kind: str                  # ChangeKind's value
    state: str                 # State's value
    unit_code: str
    entry_id: int | None
    base_version: int | None   # the published version it was based on
    proposal: Proposal
    reason: str | None
    revision: int
    created_by: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    published_version: int | None
    published_directly: bool
    return_reason: str | None
    suggestion_outcome: SuggestionOutcomeSnapshot | None
    reviews: tuple[ReviewSnapshot, ...]
    warnings: tuple[Warning, ...]

    @classmethod
    def of(cls, cr: ChangeRequest, warnings: list[Warning] | tuple[Warning, ...] = ()) -> ChangeRequestSnapshot:
        return cls(
            id=cr.id, kind=cr.kind, state=cr.state, unit_code=cr.unit.code, entry_id=cr.entry_id,
            base_version=cr.base_number, proposal=Proposal.of(cr.proposal or {}), reason=cr.reason,
            revision=cr.revision, created_by=cr.created_by_id, created_at=cr.created_at,
            updated_at=cr.updated_at, submitted_at=cr.submitted_at, published_at=cr.published_at,
            published_version=cr.published_number, published_directly=cr.published_directly,
            return_reason=cr.last_return_reason, suggestion_outcome=SuggestionOutcomeSnapshot.of(cr),
            reviews=tuple(ReviewSnapshot.of(r) for r in cr.reviews), warnings=tuple(warnings))


def _review_record(review: ReviewSnapshot) -> dict[str, Any]:
    """A review as the audit log records it."""
    return {"stage": review.stage, "decision": review.decision, "checks": review.checks, "reason": review.reason,
            "reviewer_id": review.reviewer_id, "decided_at": review.decided_at, "amendments": review.amendments,
            "based_on_revision": review.based_on_revision}


def _audit_record(cr: ChangeRequestSnapshot) -> dict[str, Any]:
    """A change request as its audit events (create, edit) have always recorded it, labels included."""
    outcome = cr.suggestion_outcome
    return {
        "id": cr.id, "kind": cr.kind, "kind_label": ChangeKind(cr.kind).label, "state": cr.state,
        "state_label": State(cr.state).label, "unit_code": cr.unit_code, "entry_id": cr.entry_id,
        "base_version": cr.base_version, "proposal": cr.proposal.fields(), "reason": cr.reason,
        "revision": cr.revision, "created_by": cr.created_by, "created_at": cr.created_at,
        "updated_at": cr.updated_at, "submitted_at": cr.submitted_at, "published_at": cr.published_at,
        "published_version": cr.published_version, "published_directly": cr.published_directly,
        "return_reason": cr.return_reason,
        # None until the office decides on a suggestion, so always None when a change is created or edited
        "suggestion_outcome": None if outcome is None else {
            "outcome": outcome.outcome, "reason": outcome.reason, "decided_at": outcome.decided_at},
        "reviews": [_review_record(r) for r in cr.reviews],
        "warnings": [w.as_dict() for w in cr.warnings],
    }


def _load(session: Session, cr_id: int, *, for_update: bool = False) -> ChangeRequest:
    query = select(ChangeRequest).where(ChangeRequest.id == cr_id)
    if for_update:
        query = query.with_for_update()
    cr = session.scalar(query)
    if cr is None:
        raise NotFound(f"变更申请 {cr_id} 不存在", code="change_request_not_found")
    return cr


def _published_entry(session: Session, entry_id: int, *, for_update: bool = False) -> KnowledgeEntry:
    query = select(KnowledgeEntry).where(KnowledgeEntry.id == entry_id)
    if for_update:
        query = query.with_for_update(of=KnowledgeEntry)
    entry = session.scalar(query)
    if entry is None:
        raise NotFound(f"知识 {entry_id} 不存在", code="entry_not_found")
    return entry


def _check_fields(session: Session, proposal: Proposal) -> Proposal:
    """Domain checks on proposed content that a schema cannot make; the 文号 normalised."""
    errors: dict[str, str] = {}
    category_id = proposal.value("category_id")
    if category_id is not None and session.get(Category, category_id) is None:
        errors["category_id"] = "分类不存在"
    effective, expires = proposal.value("effective_on"), proposal.value("expires_on")
    if effective and expires and expires < effective:
        errors["expires_on"] = "失效日期不能早于生效日期"
    if proposal.value("format") and proposal.value("format") not in {f.value for f in EntryFormat}:
        errors["format"] = "格式只能是 qa 或 document"
    if errors:
        raise ValidationFailed(errors)
    number = proposal.value("policy_number")
    if number:
        proposal = replace(proposal, policy_number=normalize_doc_number(number) or number)
    return proposal


# Finds published questions nearly the same as a proposed one: (question, exclude_entry_id) -> [(id, question)].
NearDuplicates = Callable[[str, int | None], list[tuple[int, str]]]


def _warnings(session: Session, proposal: Proposal, entry_id: int | None,
              near: NearDuplicates | None = None) -> list[Warning]:
    duplicates: list[tuple[int, str]] = []
    question = proposal.value("question")
    if question:
        key = question_key(question)
        rows = session.execute(
            select(KnowledgeEntry.id, KnowledgeVersion.question)
            .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                  & (KnowledgeVersion.number == KnowledgeEntry.published_number))
            .where(KnowledgeVersion.question_key == key, KnowledgeEntry.status == EntryStatus.PUBLISHED.value)
            .limit(5)).all()
        duplicates = [(eid, q) for eid, q in rows if eid != entry_id]
        if near is not None:
            known = {eid for eid, _ in duplicates}
            duplicates += [(eid, q) for eid, q in near(question, entry_id) if eid not in known]
    warnings = check_proposal(proposal, duplicate_questions=duplicates)
    warnings.extend(citations.cited_document_warnings(session, proposal))
    return warnings


def _require_base(entry: KnowledgeEntry, base_number: int | None) -> None:
    if base_number is None:
        raise PreconditionRequired(
            "修改、删除或撤销须注明所依据的发布版本：请在请求体中提供 base_version，或发送 If-Match: \"vN\"（知识的 ETag）",
            details={"errors": {"base_version": "缺少所依据的版本号"}})
    if base_number != entry.published_number:
        raise StaleVersion(details={"base_version": base_number, "current_version": entry.published_number})


def draft(session: Session, actor: Actor, *, kind: str, now: datetime, entry_id: int | None = None,
          base_number: int | None = None, proposal: Proposal | None = None, reason: str | None = None,
          unit_code: str | None = None,
          near_duplicates: NearDuplicates | None = None) -> tuple[ChangeRequest, list[Warning]]:
    """Step: a new change request in draft, flushed and audited; with the warnings its proposal gets."""
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    kind_ = ChangeKind(kind)
    proposal = proposal or Proposal()
    s = session
    entry: KnowledgeEntry | None = None
    unit_id: int | None
    if entry_id is not None:
        entry = _published_entry(s, entry_id)
        unit_id = entry.unit_id
        require_unit_scope(actor, unit_id)
    elif kind_ in (ChangeKind.MODIFY, ChangeKind.DELETE, ChangeKind.REVOKE):
        raise ValidationFailed({"entry_id": "修改、删除或撤销须指明知识"})
    elif actor.is_office:
        if not unit_code:
            raise ValidationFailed({"unit_code": "热线办代为采集时须指明承办单位"})
        unit_id = s.scalar(select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            raise ValidationFailed({"unit_code": f"单位 {unit_code} 不存在"})
    else:
        unit_id = actor.unit_id
    if kind_ is ChangeKind.NEW and entry is not None:
        raise ValidationFailed({"entry_id": "新增知识不能指向已有知识"})
    if kind_ in (ChangeKind.MODIFY, ChangeKind.DELETE, ChangeKind.REVOKE):
        assert entry is not None  # refused above without an entry_id
        if entry.status != EntryStatus.PUBLISHED.value:
            raise ValidationFailed({"entry_id": "只能对已发布的知识提出修改、删除或撤销"})
        _require_base(entry, base_number)
    if kind_ in (ChangeKind.DELETE, ChangeKind.REVOKE, ChangeKind.SUGGESTION) and not (reason or "").strip():
        raise ValidationFailed({"reason": "须说明原因或建议内容"})
    if kind_.carries_content:
        if kind_ is ChangeKind.MODIFY:
            assert entry is not None  # refused above without an entry_id
            proposal = proposal.over(Proposal.of(entry.published_version.content()))
        proposal = proposal.filled(format=EntryFormat.QA.value, similar_questions=(), keywords=(),
                                   policy_attachments=0, urgent=False)
        proposal = _check_fields(s, proposal)
    else:
        proposal = Proposal()
    cr = ChangeRequest(
        kind=kind_.value, state=State.DRAFT.value, unit_id=unit_id, entry_id=entry.id if entry else None,
        base_number=entry.published_number if entry is not None else None, proposal=proposal.to_json(),
        reason=reason, revision=1, created_by_id=actor.user_id, created_at=now, updated_at=now)
    s.add(cr)
    s.flush()
    warnings = _warnings(s, proposal, cr.entry_id, near_duplicates) if kind_.carries_content else []
    audit.record(s, actor, "change_request.create", "change_request", cr.id, None,
                 _audit_record(ChangeRequestSnapshot.of(cr, warnings)), now)
    return cr, warnings


def create(uow: UnitOfWork, actor: Actor, *, kind: str, now: datetime, entry_id: int | None = None,
           base_number: int | None = None, proposal: Proposal | None = None, reason: str | None = None,
           unit_code: str | None = None, near_duplicates: NearDuplicates | None = None) -> ChangeRequestSnapshot:
    """Collect: a maintainer (or the office for a unit) drafts new knowledge or a change to published knowledge."""
    with uow:
        cr, warnings = draft(uow.session, actor, kind=kind, now=now, entry_id=entry_id, base_number=base_number,
                             proposal=proposal, reason=reason, unit_code=unit_code, near_duplicates=near_duplicates)
        view = ChangeRequestSnapshot.of(cr, warnings)
        uow.commit()
        return view


def _scoped(session: Session, actor: Actor, cr_id: int, *, for_update: bool = False) -> ChangeRequest:
    cr = _load(session, cr_id, for_update=for_update)
    if not can_see_unpublished(actor, cr.unit_id):
        if actor.role.belongs_to_unit:
            raise PermissionDenied("只能查看和处理本单位的变更申请（谁提供谁负责）")
        raise PermissionDenied("无权查看变更申请")
    return cr


def _require_revision(revision: int | None) -> None:
    """An edit overwrites the draft's content, so it must name the revision it was made from."""
    if revision is None:
        raise PreconditionRequired(
            "修改变更申请须注明所依据的修订号：请在请求体中提供 revision，或发送 If-Match: \"rN\"（变更申请的 ETag）",
            details={"errors": {"revision": "缺少所依据的修订号"}})


def _check_revision(cr: ChangeRequest, revision: int | None) -> None:
    if revision is not None and revision != cr.revision:
        raise StaleVersion("变更申请已被他人修改，请刷新后重试",
                           details={"revision": revision, "current_revision": cr.revision})


def get(uow: UnitOfWork, actor: Actor, cr_id: int,
        near_duplicates: NearDuplicates | None = None) -> ChangeRequestSnapshot:
    with uow:
        cr = _scoped(uow.session, actor, cr_id)
        warnings = _warnings(uow.session, Proposal.of(cr.proposal), cr.entry_id, near_duplicates) \
            if ChangeKind(cr.kind).carries_content and cr.state != State.PUBLISHED.value else []
        return ChangeRequestSnapshot.of(cr, warnings)


def list_for(uow: UnitOfWork, actor: Actor, *, state: str | None = None, unit_code: str | None = None,
             kind: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[int, list[ChangeRequestSnapshot]]:
    require_role(actor, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    with uow:
        query = select(ChangeRequest).order_by(ChangeRequest.id.desc())
        if not actor.is_office:
            query = query.where(ChangeRequest.unit_id == actor.unit_id)
        if unit_code:
            query = query.join(Unit, Unit.id == ChangeRequest.unit_id).where(Unit.code == unit_code)
        if state:
            query = query.where(ChangeRequest.state == state)
        if kind:
            query = query.where(ChangeRequest.kind == kind)
        total = uow.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        rows = uow.session.scalars(query.limit(limit).offset(offset))
        return total, [ChangeRequestSnapshot.of(cr) for cr in rows]


def edit(uow: UnitOfWork, actor: Actor, cr_id: int, *, revision: int | None, now: datetime,
         proposal: Proposal | None = None, reason: str | None = None,
         near_duplicates: NearDuplicates | None = None) -> ChangeRequestSnapshot:
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        cr = _scoped(s, actor, cr_id, for_update=True)
        _require_revision(revision)
        _check_revision(cr, revision)
        next_state(cr.state, Action.EDIT)
        before = _audit_record(ChangeRequestSnapshot.of(cr))
        if proposal:
            if not ChangeKind(cr.kind).carries_content:
                raise ValidationFailed({"proposal": "此类申请没有知识内容可改"})
            cr.proposal = _check_fields(s, proposal.over(Proposal.of(cr.proposal))).to_json()
        if reason is not None:
            cr.reason = reason
        cr.revision += 1
        cr.updated_at = now
        s.flush()
        warnings = _warnings(s, Proposal.of(cr.proposal), cr.entry_id, near_duplicates) \
            if ChangeKind(cr.kind).carries_content else []
        view = ChangeRequestSnapshot.of(cr, warnings)
        audit.record(s, actor, "change_request.edit", "change_request", cr.id, before, _audit_record(view), now)
        uow.commit()
        return view


def submit(uow: UnitOfWork, actor: Actor, cr_id: int, *, revision: int | None,
           now: datetime) -> ChangeRequestSnapshot:
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    with uow:
        cr = _scoped(uow.session, actor, cr_id, for_update=True)
        _check_revision(cr, revision)
        submit_for_review(uow.session, actor, cr, now=now)
        view = ChangeRequestSnapshot.of(cr)
        uow.commit()
        return view


def submit_for_review(session: Session, actor: Actor, cr: ChangeRequest, *, now: datetime) -> ChangeRequest:
    """Step: a draft (or a returned change) goes to unit review once its required fields are filled."""
    new_state = next_state(cr.state, Action.SUBMIT)
    if ChangeKind(cr.kind).carries_content:
        proposal = Proposal.of(cr.proposal)
        missing = {f: f"提交审核前须填写{label}" for f, label in REQUIRED_FOR_SUBMIT.items()
                   if not proposal.value(f)}
        if missing:
            raise ValidationFailed(missing, "必填项未填写，不能提交审核")
    if cr.entry_id is not None and cr.kind != ChangeKind.SUGGESTION.value:
        _require_base(_published_entry(session, cr.entry_id), cr.base_number)
    _move(session, actor, cr, new_state, "change_request.submit", now, submitted=True)
    return cr


def _move(session: Session, actor: Actor, cr: ChangeRequest, new_state: State, action: str, now: datetime,
          *, submitted: bool = False, review: Review | None = None) -> None:
    """Step: the change request moves to `new_state` (with its review), audited; flushed."""
    s = session
    before = {"state": cr.state, "revision": cr.revision}
    cr.state = new_state.value
    cr.revision += 1
    cr.updated_at = now
    if submitted:
        cr.submitted_at = now
    if review is not None:
        review.change_request_id = cr.id
        with s.no_autoflush:
            cr.reviews.append(review)
        if review.decision == "return":
            cr.last_return_reason = review.reason
    s.flush()
    audit.record(s, actor, action, "change_request", cr.id, before,
                 {"state": cr.state, "revision": cr.revision,
                  **({"review": _review_record(ReviewSnapshot.of(review))} if review is not None else {})}, now)


def unit_review(uow: UnitOfWork, actor: Actor, cr_id: int, *, approve: bool, checks: dict[str, bool],
                reason: str | None, revision: int | None, now: datetime,
                amendments: Proposal | None = None) -> ChangeRequestSnapshot:
    """The unit reviewer approves or returns; approving, it may first amend the proposal (Art. 8(2)).

    An amendment names the revision it was made on: without one it is a 428, on a stale one a 409.
    """
    require_role(actor, Role.UNIT_REVIEWER)
    unit_review_outcome(checks, approve, reason)  # Art. 9's checks refused before anything is loaded
    if amendments and not approve:
        raise ValidationFailed({"amendments": "修改或完善后须审核通过；退回请说明原因，由知识员修改"})
    if amendments:
        _require_revision(revision)
    with uow:
        cr = _scoped(uow.session, actor, cr_id, for_update=True)
        _check_revision(cr, revision)
        review_by_unit(uow.session, actor, cr, approve=approve, checks=checks, reason=reason, now=now,
                       amendments=amendments, based_on_revision=revision)
        view = ChangeRequestSnapshot.of(cr)
        uow.commit()
        return view


def review_by_unit(session: Session, actor: Actor, cr: ChangeRequest, *, approve: bool, checks: dict[str, bool],
                   reason: str | None, now: datetime, amendments: Proposal | None = None,
                   based_on_revision: int | None = None) -> ChangeRequest:
    """Step: the unit reviewer approves (all four checks of Art. 9 passed, the proposal amended if need be)
    or returns, naming in Chinese what failed."""
    action = unit_review_outcome(checks, approve, reason)
    new_state = next_state(cr.state, action)
    changed = _amend(session, cr, amendments) if amendments else None
    failed = [Check(name).label for name, ok in checks.items() if not ok]
    review = Review(stage="unit", decision="approve" if approve else "return", checks=dict(checks),
                    reason=reason if not approve else (reason or None), reviewer_id=actor.user_id,
                    decided_at=now)
    if not approve and failed and not reason:
        review.reason = "未通过：" + "、".join(failed)
    if changed:
        review.amendments, review.based_on_revision = changed, based_on_revision
    _move(session, actor, cr, new_state, f"change_request.{action.value}", now, review=review)
    return cr


def decide_suggestion(session: Session, actor: Actor, cr: ChangeRequest, *, decision: str, reason: str | None,
                      now: datetime) -> ChangeRequest:
    """Step: the office takes up a unit's suggestion (Art. 7(一) 知识建议) or declines it with a reason the
    unit reads. `publish` is read as `accept` (it is what a suggestion's publication always meant)."""
    decision = "accept" if decision == "publish" else decision
    if decision not in ("accept", "decline"):
        raise ValidationFailed({"decision": "知识建议只能 accept（采纳）、decline（不采纳）或 return（退回修改）"})
    if decision == "decline" and not (reason or "").strip():
        raise ValidationFailed({"reason": "不采纳须说明理由，提出建议的单位会看到"})
    new_state = next_state(cr.state, Action.OFFICE_PUBLISH if decision == "accept" else Action.OFFICE_DECLINE)
    if decision == "accept":
        cr.published_at = now
    review = Review(stage="office", decision=decision, checks={}, reason=reason, reviewer_id=actor.user_id,
                    decided_at=now)
    _move(session, actor, cr, new_state, f"change_request.suggestion_{decision}", now, review=review)
    return cr


def _amend(session: Session, cr: ChangeRequest, amendments: Proposal) -> dict[str, Any]:
    """The reviewer's changes merged into the proposal; field → {before, after} of what really changed,
    as JSON values (kept in `Review.amendments`)."""
    if not ChangeKind(cr.kind).carries_content:
        raise ValidationFailed({"amendments": "此类申请没有知识内容可改"})
    before = Proposal.of(cr.proposal)
    merged = _check_fields(session, amendments.over(before))
    changed = {key: {"before": _json_value(before.value(key)), "after": _json_value(merged.value(key))}
               for key in amendments.fields() if merged.value(key) != before.value(key)}
    cr.proposal = merged.to_json()
    return changed


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def office_review(uow: UnitOfWork, actor: Actor, cr_id: int, *, decision: str, reason: str | None,
                  revision: int | None, now: datetime) -> ChangeRequestSnapshot:
    """Publish or return. Publishing from before office review is allowed only for urgent knowledge."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        cr = _scoped(s, actor, cr_id, for_update=True)
        _check_revision(cr, revision)
        if cr.kind == ChangeKind.SUGGESTION.value and decision != "return":
            decide_suggestion(s, actor, cr, decision=decision, reason=reason, now=now)
            view = ChangeRequestSnapshot.of(cr)
            uow.commit()
            return view
        if decision in ("accept", "decline"):
            raise ValidationFailed({"decision": "采纳或不采纳只用于知识建议；知识变更请 publish 或 return"})
        if decision == "return":
            return_by_office(s, actor, cr, reason=reason, now=now)
            view = ChangeRequestSnapshot.of(cr)
            uow.commit()
            return view
        if decision != "publish":
            raise ValidationFailed({"decision": "只能是 publish 或 return"})
        publish(s, actor, cr, reason=reason, now=now)
        view = ChangeRequestSnapshot.of(cr)
        reactions.dispatch(s)  # what follows from the publication (correction tasks), in this transaction
        uow.commit()
        return view


def return_by_office(session: Session, actor: Actor, cr: ChangeRequest, *, reason: str | None,
                     now: datetime) -> ChangeRequest:
    """Step: the office sends the change back to the unit, saying why."""
    if not (reason or "").strip():
        raise ValidationFailed({"reason": "退回须说明原因"})
    new_state = next_state(cr.state, Action.OFFICE_RETURN)
    review = Review(stage="office", decision="return", checks={}, reason=reason,
                    reviewer_id=actor.user_id, decided_at=now)
    _move(session, actor, cr, new_state, "change_request.office_return", now, review=review)
    return cr


def publish(session: Session, actor: Actor, cr: ChangeRequest, *, reason: str | None,
            now: datetime) -> ChangeRequest:
    """Step: the office publishes `cr` (urgent knowledge straight from before office review, Art. 10(3)).

    Makes the change live and records `ChangePublished` (and `EntryWithdrawn`
    for a deletion or revocation) for the caller to dispatch; flushed.
    """
    proposal = Proposal.of(cr.proposal)
    if cr.state == State.OFFICE_REVIEW.value:
        action = Action.OFFICE_PUBLISH
    else:
        if not proposal.value("urgent"):
            next_state(cr.state, Action.OFFICE_PUBLISH)  # raises: not yet through unit review
        action = Action.PUBLISH_URGENT
    new_state = next_state(cr.state, action)
    if ChangeKind(cr.kind).carries_content:
        missing = {f: f"发布前须填写{label}" for f, label in REQUIRED_FOR_SUBMIT.items()
                   if not proposal.value(f)}
        if missing:
            raise ValidationFailed(missing, "必填项未填写，不能发布")
    version = _apply(session, cr, now)
    if version is not None:
        attachments.link_on_publish(session, cr, version)  # the version keeps its basis documents
    cr.published_at = now
    cr.published_directly = action is Action.PUBLISH_URGENT
    if version is not None:
        cr.published_number = version.number
    review = Review(stage="office", decision="publish", checks={}, reason=reason,
                    reviewer_id=actor.user_id, decided_at=now)
    events.record(session, events.ChangePublished(
        change_request_id=cr.id, kind=cr.kind, entry_id=cr.entry_id, version=cr.published_number, at=now))
    if cr.kind in (ChangeKind.DELETE.value, ChangeKind.REVOKE.value) and cr.entry_id is not None:
        events.record(session, events.EntryWithdrawn(entry_id=cr.entry_id, at=now, change_request_id=cr.id))
    _move(session, actor, cr, new_state,
          "change_request.publish_urgent" if cr.published_directly else "change_request.publish", now, review=review)
    return cr


def _apply(session: Session, cr: ChangeRequest, now: datetime) -> KnowledgeVersion | None:
    """Make the change live. Version switch and outbox row share the publishing transaction."""
    kind = ChangeKind(cr.kind)
    if kind is ChangeKind.SUGGESTION:
        return None
    if kind is ChangeKind.NEW:
        entry = KnowledgeEntry(unit_id=cr.unit_id, status=EntryStatus.PUBLISHED.value, published_number=1,
                               created_at=now, published_at=now)
        session.add(entry)
        session.flush()
    else:
        assert cr.entry_id is not None  # every kind but new and suggestion names its entry
        entry = _published_entry(session, cr.entry_id, for_update=True)
        if entry.status != EntryStatus.PUBLISHED.value:
            raise StaleVersion("该知识已下架，不能再发布此变更",
                               details={"base_version": cr.base_number, "current_version": entry.published_number})
        _require_base(entry, cr.base_number)
    version = None
    if kind is not ChangeKind.NEW and entry.scheduled_number is not None:
        raise InvalidTransition("该知识已有待生效的修改，请在其生效后再提交变更", code="update_scheduled",
                                details={"scheduled_version": entry.scheduled_number})
    if kind.carries_content:
        content = Proposal.of(cr.proposal)
        number = 1 if kind is ChangeKind.NEW else entry.published_number + 1
        today = to_shanghai(now).date()
        if (kind is ChangeKind.MODIFY and content.value("effective_on") > today
                and entry.published_version.effective_on <= today):
            # Takes effect later: the live version stays live (and searchable) until that day.
            entry.scheduled_number = number
        else:
            # Switching the number switches what operators see, in this same transaction.
            entry.published_number = number
            entry.published_at = now
        version = KnowledgeVersion(
            entry_id=entry.id, number=number, question_key=question_key(content.value("question")),
            change_request_id=cr.id, created_at=now, **{f: content.value(f) for f in CONTENT_FIELDS})
        version.similar_questions = list(content.value("similar_questions") or [])
        version.keywords = list(content.value("keywords") or [])
        version.policy_attachments = int(content.value("policy_attachments") or 0)
        version.urgent = bool(content.value("urgent"))
        version.format = content.value("format") or EntryFormat.QA.value
        session.add(version)
        session.flush()
        session.expire(entry, ["published_version"])
    else:
        entry.status = EntryStatus.WITHDRAWN.value
        entry.withdrawn_at = now
        session.flush()
    cr.entry_id = entry.id
    outbox.enqueue(session, entry.id, now)
    return version


def cancel(uow: UnitOfWork, actor: Actor, cr_id: int, *, revision: int | None,
           now: datetime) -> ChangeRequestSnapshot:
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    with uow:
        cr = _scoped(uow.session, actor, cr_id, for_update=True)
        _check_revision(cr, revision)
        _move(uow.session, actor, cr, next_state(cr.state, Action.CANCEL), "change_request.cancel", now)
        view = ChangeRequestSnapshot.of(cr)
        uow.commit()
        return view
