"""Change requests: collect → unit review → office review → publish (Art. 7–9).

Steps take a session, flush and never commit: `draft` (a new change request,
with its warnings), `submit_for_review`, `review_by_unit`,
`return_by_office`, `publish` (make it live, recording `ChangePublished`);
`_move` is the state change with its review and audit event they share. Other use cases combine them
in their own transactions (`kb.services.task_changes` drafts the fix of a
correction task and links it in one).

Each other public function taking a unit of work is one use case: it opens the
unit of work, loads, moves the state through `kb.workflow`, dispatches the
events its steps recorded (`kb.services.reactions`) and commits once.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

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
from kb.search import outbox
from kb.services import attachments, audit, reactions
from kb.submission import Warning, check_proposal, normalize_doc_number, question_key
from kb.workflow import Action, Check, State, next_state, unit_review_outcome

REQUIRED_FOR_SUBMIT = {"question": "问题", "answer": "答案", "category_id": "分类", "effective_on": "生效日期"}


def _to_json(proposal: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in proposal.items()}


def _from_json(proposal: dict) -> dict:
    out = dict(proposal)
    for key in ("effective_on", "expires_on"):
        if isinstance(out.get(key), str):
            out[key] = date.fromisoformat(out[key])
    return out


def _suggestion_outcome(cr: ChangeRequest) -> dict | None:
    """What the office decided on a unit's suggestion, as the unit reads it; None before it decided."""
    if cr.kind != ChangeKind.SUGGESTION.value:
        return None
    decided = [r for r in cr.reviews if r.stage == "office" and r.decision in ("accept", "publish", "decline")]
    if not decided:
        return None
    last = decided[-1]
    accepted = last.decision != "decline"
    label = ("已采纳" + (f"：{last.reason}" if last.reason else "")) if accepted else f"未采纳：{last.reason}"
    return {"outcome": "accepted" if accepted else "declined", "reason": last.reason, "label": label,
            "decided_at": last.decided_at}


def change_request_view(cr: ChangeRequest, warnings: list | None = None) -> dict:
    return {
        "id": cr.id, "kind": cr.kind, "kind_label": ChangeKind(cr.kind).label, "state": cr.state,
        "state_label": State(cr.state).label, "unit_code": cr.unit.code, "entry_id": cr.entry_id,
        "base_version": cr.base_number, "proposal": _from_json(cr.proposal or {}), "reason": cr.reason,
        "revision": cr.revision, "created_by": cr.created_by_id, "created_at": cr.created_at,
        "updated_at": cr.updated_at, "submitted_at": cr.submitted_at, "published_at": cr.published_at,
        "published_version": cr.published_number, "published_directly": cr.published_directly,
        "return_reason": cr.last_return_reason,
        "suggestion_outcome": _suggestion_outcome(cr),
        "reviews": [
            {"stage": r.stage, "decision": r.decision, "checks": r.checks, "reason": r.reason,
             "reviewer_id": r.reviewer_id, "decided_at": r.decided_at, "amendments": r.amendments,
             "based_on_revision": r.based_on_revision} for r in cr.reviews],
        "warnings": [w.as_dict() for w in (warnings or [])],
    }


def _load(session, cr_id: int, *, for_update: bool = False) -> ChangeRequest:
    query = select(ChangeRequest).where(ChangeRequest.id == cr_id)
    if for_update:
        query = query.with_for_update()
    cr = session.scalar(query)
    if cr is None:
        raise NotFound(f"变更申请 {cr_id} 不存在", code="change_request_not_found")
    return cr


def _published_entry(session, entry_id: int, *, for_update: bool = False) -> KnowledgeEntry:
    query = select(KnowledgeEntry).where(KnowledgeEntry.id == entry_id)
    if for_update:
        query = query.with_for_update(of=KnowledgeEntry)
    entry = session.scalar(query)
    if entry is None:
        raise NotFound(f"知识 {entry_id} 不存在", code="entry_not_found")
    return entry


def _check_fields(session, proposal: dict) -> dict:
    """Domain checks on proposed content that a schema cannot make."""
    errors: dict[str, str] = {}
    if proposal.get("category_id") is not None and session.get(Category, proposal["category_id"]) is None:
        errors["category_id"] = "分类不存在"
    effective, expires = proposal.get("effective_on"), proposal.get("expires_on")
    if effective and expires and expires < effective:
        errors["expires_on"] = "失效日期不能早于生效日期"
    if proposal.get("format") and proposal["format"] not in {f.value for f in EntryFormat}:
        errors["format"] = "格式只能是 qa 或 document"
    if errors:
        raise ValidationFailed(errors)
    if proposal.get("policy_number"):
        proposal["policy_number"] = normalize_doc_number(proposal["policy_number"]) or proposal["policy_number"]
    return proposal


# Finds published questions nearly the same as a proposed one: (question, exclude_entry_id) -> [(id, question)].
NearDuplicates = Callable[[str, int | None], list[tuple[int, str]]]


def _warnings(session, proposal: dict, entry_id: int | None, near: NearDuplicates | None = None) -> list:
    duplicates: list[tuple[int, str]] = []
    if proposal.get("question"):
        key = question_key(proposal["question"])
        rows = session.execute(
            select(KnowledgeEntry.id, KnowledgeVersion.question)
            .join(KnowledgeVersion, (KnowledgeVersion.entry_id == KnowledgeEntry.id)
                  & (KnowledgeVersion.number == KnowledgeEntry.published_number))
            .where(KnowledgeVersion.question_key == key, KnowledgeEntry.status == EntryStatus.PUBLISHED.value)
            .limit(5)).all()
        duplicates = [(eid, q) for eid, q in rows if eid != entry_id]
        if near is not None:
            known = {eid for eid, _ in duplicates}
            duplicates += [(eid, q) for eid, q in near(proposal["question"], entry_id) if eid not in known]
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
          base_number: int | None = None, proposal: dict | None = None, reason: str | None = None,
          unit_code: str | None = None,
          near_duplicates: NearDuplicates | None = None) -> tuple[ChangeRequest, list[Warning]]:
    """Step: a new change request in draft, flushed and audited; with the warnings its proposal gets."""
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    kind_ = ChangeKind(kind)
    proposal = dict(proposal or {})
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
            proposal = {**entry.published_version.content(), **proposal}
        proposal.setdefault("format", EntryFormat.QA.value)
        proposal.setdefault("similar_questions", [])
        proposal.setdefault("keywords", [])
        proposal.setdefault("policy_attachments", 0)
        proposal.setdefault("urgent", False)
        proposal = _check_fields(s, proposal)
    else:
        proposal = {}
    cr = ChangeRequest(
        kind=kind_.value, state=State.DRAFT.value, unit_id=unit_id, entry_id=entry.id if entry else None,
        base_number=entry.published_number if entry is not None else None, proposal=_to_json(proposal),
        reason=reason, revision=1, created_by_id=actor.user_id, created_at=now, updated_at=now)
    s.add(cr)
    s.flush()
    warnings = _warnings(s, proposal, cr.entry_id, near_duplicates) if kind_.carries_content else []
    audit.record(s, actor, "change_request.create", "change_request", cr.id, None,
                 change_request_view(cr, warnings), now)
    return cr, warnings


def create(uow: UnitOfWork, actor: Actor, *, kind: str, now: datetime, entry_id: int | None = None,
           base_number: int | None = None, proposal: dict | None = None, reason: str | None = None,
           unit_code: str | None = None, near_duplicates: NearDuplicates | None = None) -> dict:
    """Collect: a maintainer (or the office for a unit) drafts new knowledge or a change to published knowledge."""
    with uow:
        cr, warnings = draft(uow.session, actor, kind=kind, now=now, entry_id=entry_id, base_number=base_number,
                             proposal=proposal, reason=reason, unit_code=unit_code, near_duplicates=near_duplicates)
        view = change_request_view(cr, warnings)
        uow.commit()
        return view


def _scoped(session, actor: Actor, cr_id: int, *, for_update: bool = False) -> ChangeRequest:
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


def get(uow: UnitOfWork, actor: Actor, cr_id: int, near_duplicates: NearDuplicates | None = None) -> dict:
    with uow:
        cr = _scoped(uow.session, actor, cr_id)
        warnings = _warnings(uow.session, _from_json(cr.proposal), cr.entry_id, near_duplicates) \
            if ChangeKind(cr.kind).carries_content and cr.state != State.PUBLISHED.value else []
        return change_request_view(cr, warnings)


def list_for(uow: UnitOfWork, actor: Actor, *, state: str | None = None, unit_code: str | None = None,
             kind: str | None = None, limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
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
        return total, [change_request_view(cr) for cr in rows]


def edit(uow: UnitOfWork, actor: Actor, cr_id: int, *, revision: int | None, now: datetime,
         proposal: dict | None = None, reason: str | None = None,
         near_duplicates: NearDuplicates | None = None) -> dict:
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        cr = _scoped(s, actor, cr_id, for_update=True)
        _require_revision(revision)
        _check_revision(cr, revision)
        next_state(cr.state, Action.EDIT)
        before = change_request_view(cr)
        if proposal:
            if not ChangeKind(cr.kind).carries_content:
                raise ValidationFailed({"proposal": "此类申请没有知识内容可改"})
            merged = _check_fields(s, {**_from_json(cr.proposal), **proposal})
            cr.proposal = _to_json(merged)
        if reason is not None:
            cr.reason = reason
        cr.revision += 1
        cr.updated_at = now
        s.flush()
        warnings = _warnings(s, _from_json(cr.proposal), cr.entry_id, near_duplicates) \
            if ChangeKind(cr.kind).carries_content else []
        view = change_request_view(cr, warnings)
        audit.record(s, actor, "change_request.edit", "change_request", cr.id, before, view, now)
        uow.commit()
        return view


def submit(uow: UnitOfWork, actor: Actor, cr_id: int, *, revision: int | None, now: datetime) -> dict:
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    with uow:
        cr = _scoped(uow.session, actor, cr_id, for_update=True)
        _check_revision(cr, revision)
        submit_for_review(uow.session, actor, cr, now=now)
        view = change_request_view(cr)
        uow.commit()
        return view


def submit_for_review(session: Session, actor: Actor, cr: ChangeRequest, *, now: datetime) -> ChangeRequest:
    """Step: a draft (or a returned change) goes to unit review once its required fields are filled."""
    new_state = next_state(cr.state, Action.SUBMIT)
    if ChangeKind(cr.kind).carries_content:
        missing = {f: f"提交审核前须填写{label}" for f, label in REQUIRED_FOR_SUBMIT.items()
                   if not cr.proposal.get(f)}
        if missing:
            raise ValidationFailed(missing, "必填项未填写，不能提交审核")
    if cr.entry_id is not None and cr.kind != ChangeKind.SUGGESTION.value:
        _require_base(_published_entry(session, cr.entry_id), cr.base_number)
    _move(session, actor, cr, new_state, "change_request.submit", now, submitted=True)
    return cr


def _move(session: Session, actor: Actor, cr: ChangeRequest, new_state: State, action: str, now: datetime,
          *, submitted: bool = False, review: Review | None = None) -> dict:
    """Step: the change request moves to `new_state` (with its review), audited; flushed, its view returned."""
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
    view = change_request_view(cr)
    audit.record(s, actor, action, "change_request", cr.id, before,
                 {"state": cr.state, "revision": cr.revision,
                  **({"review": view["reviews"][-1]} if review is not None else {})}, now)
    return view


def unit_review(uow: UnitOfWork, actor: Actor, cr_id: int, *, approve: bool, checks: dict[str, bool],
                reason: str | None, revision: int | None, now: datetime, amendments: dict | None = None) -> dict:
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
        view = change_request_view(cr)
        uow.commit()
        return view


def review_by_unit(session: Session, actor: Actor, cr: ChangeRequest, *, approve: bool, checks: dict[str, bool],
                   reason: str | None, now: datetime, amendments: dict | None = None,
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


def _amend(session, cr: ChangeRequest, amendments: dict) -> dict:
    """The reviewer's changes merged into the proposal; field → {before, after} of what really changed."""
    if not ChangeKind(cr.kind).carries_content:
        raise ValidationFailed({"amendments": "此类申请没有知识内容可改"})
    before = _from_json(cr.proposal)
    merged = _check_fields(session, {**before, **amendments})
    changed = {key: {"before": before.get(key), "after": merged[key]} for key in amendments
               if merged[key] != before.get(key)}
    cr.proposal = _to_json(merged)
    return _to_json_nested(changed)


def _to_json_nested(changed: dict) -> dict:
    return {key: _to_json(values) for key, values in changed.items()}


def office_review(uow: UnitOfWork, actor: Actor, cr_id: int, *, decision: str, reason: str | None,
                  revision: int | None, now: datetime) -> dict:
    """Publish or return. Publishing from before office review is allowed only for urgent knowledge."""
    require_role(actor, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        cr = _scoped(s, actor, cr_id, for_update=True)
        _check_revision(cr, revision)
        if cr.kind == ChangeKind.SUGGESTION.value and decision != "return":
            decide_suggestion(s, actor, cr, decision=decision, reason=reason, now=now)
            view = change_request_view(cr)
            uow.commit()
            return view
        if decision in ("accept", "decline"):
            raise ValidationFailed({"decision": "采纳或不采纳只用于知识建议；知识变更请 publish 或 return"})
        if decision == "return":
            return_by_office(s, actor, cr, reason=reason, now=now)
            view = change_request_view(cr)
            uow.commit()
            return view
        if decision != "publish":
            raise ValidationFailed({"decision": "只能是 publish 或 return"})
        publish(s, actor, cr, reason=reason, now=now)
        view = change_request_view(cr)
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
    if cr.state == State.OFFICE_REVIEW.value:
        action = Action.OFFICE_PUBLISH
    else:
        if not cr.proposal.get("urgent"):
            next_state(cr.state, Action.OFFICE_PUBLISH)  # raises: not yet through unit review
        action = Action.PUBLISH_URGENT
    new_state = next_state(cr.state, action)
    if ChangeKind(cr.kind).carries_content:
        missing = {f: f"发布前须填写{label}" for f, label in REQUIRED_FOR_SUBMIT.items()
                   if not cr.proposal.get(f)}
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


def _apply(session, cr: ChangeRequest, now: datetime) -> KnowledgeVersion | None:
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
        content = _from_json(cr.proposal)
        number = 1 if kind is ChangeKind.NEW else entry.published_number + 1
        today = to_shanghai(now).date()
        if (kind is ChangeKind.MODIFY and content["effective_on"] > today
                and entry.published_version.effective_on <= today):
            # Takes effect later: the live version stays live (and searchable) until that day.
            entry.scheduled_number = number
        else:
            # Switching the number switches what operators see, in this same transaction.
            entry.published_number = number
            entry.published_at = now
        version = KnowledgeVersion(
            entry_id=entry.id, number=number, question_key=question_key(content["question"]),
            change_request_id=cr.id, created_at=now, **{f: content.get(f) for f in CONTENT_FIELDS})
        version.similar_questions = list(content.get("similar_questions") or [])
        version.keywords = list(content.get("keywords") or [])
        version.policy_attachments = int(content.get("policy_attachments") or 0)
        version.urgent = bool(content.get("urgent"))
        version.format = content.get("format") or EntryFormat.QA.value
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


def cancel(uow: UnitOfWork, actor: Actor, cr_id: int, *, revision: int | None, now: datetime) -> dict:
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    with uow:
        cr = _scoped(uow.session, actor, cr_id, for_update=True)
        _check_revision(cr, revision)
        view = _move(uow.session, actor, cr, next_state(cr.state, Action.CANCEL), "change_request.cancel", now)
        uow.commit()
        return view
