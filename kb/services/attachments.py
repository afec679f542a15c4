"""Basis documents (Art. 9(4)): uploaded to a change request, published with its version, read like the entry.

A published version keeps its files: a modification's version gets the files
of the version it replaced plus its own uploads, and the old version keeps
its list. The Art. 9(4) attachment count of a version with files is the
number of files.

The bytes go to the store before the row is committed: a failed commit leaves
an unreferenced file at worst, never a row without its file. Removing a draft's
file deletes the bytes after the commit.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.access import Actor, can_see_unpublished, require_role
from kb.db import UnitOfWork
from kb.documents import ACCEPTED, extract_text, sniff
from kb.errors import NotFound, PermissionDenied, TooLarge, ValidationFailed
from kb.models import (
    Attachment, ChangeKind, ChangeRequest, EntryStatus, KnowledgeEntry, KnowledgeVersion, Role, VersionAttachment)
from kb.services import audit
from kb.services.knowledge import READERS
from kb.search.attachment_text import texts_by_entry  # noqa: F401  (also a service of this module)
from kb.storage import BlobMissing, BlobStore
from kb.workflow import Action, next_state

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentSnapshot:
    """A basis document: what it is, not its bytes."""

    id: int
    file_name: str
    media_type: str
    size_bytes: int
    sha256: str
    has_text: bool               # text was extracted (PDF/DOCX): search finds it
    change_request_id: int       # the change request it was uploaded to
    uploaded_at: datetime
    inherited: bool = False      # listed for a modification: a file of the version it modifies

    @classmethod
    def of(cls, a: Attachment, *, inherited: bool = False) -> AttachmentSnapshot:
        return cls(id=a.id, file_name=a.file_name, media_type=a.media_type, size_bytes=a.size_bytes,
                   sha256=a.sha256, has_text=bool(a.text), change_request_id=a.change_request_id,
                   uploaded_at=a.uploaded_at, inherited=inherited)


def _record(a: AttachmentSnapshot) -> dict[str, Any]:
    """A file as its audit events record it."""
    return {"id": a.id, "file_name": a.file_name, "media_type": a.media_type, "size_bytes": a.size_bytes,
            "sha256": a.sha256, "has_text": a.has_text, "change_request_id": a.change_request_id,
            "uploaded_at": a.uploaded_at}


def _change_request(session: Session, actor: Actor, cr_id: int, *, for_update: bool = False) -> ChangeRequest:
    query = select(ChangeRequest).where(ChangeRequest.id == cr_id)
    cr = session.scalar(query.with_for_update() if for_update else query)
    if cr is None:
        raise NotFound(f"变更申请 {cr_id} 不存在", code="change_request_not_found")
    if not can_see_unpublished(actor, cr.unit_id):
        raise PermissionDenied("只能查看和处理本单位的变更申请（谁提供谁负责）")
    return cr


def _version_files(session: Session, version_id: int) -> list[Attachment]:
    return list(session.scalars(
        select(Attachment).join(VersionAttachment, VersionAttachment.attachment_id == Attachment.id)
        .where(VersionAttachment.version_id == version_id).order_by(VersionAttachment.position, Attachment.id)))


def _base_version_id(session: Session, cr: ChangeRequest) -> int | None:
    if cr.kind != ChangeKind.MODIFY.value or cr.entry_id is None or cr.base_number is None:
        return None
    return session.scalar(select(KnowledgeVersion.id).where(KnowledgeVersion.entry_id == cr.entry_id,
                                                            KnowledgeVersion.number == cr.base_number))


def _own_files(session: Session, cr_id: int) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.change_request_id == cr_id)
                                .order_by(Attachment.id)))


def upload(uow: UnitOfWork, store: BlobStore, actor: Actor, cr_id: int, *, file_name: str, data: bytes,
           now: datetime, max_bytes: int) -> AttachmentSnapshot:
    """Add a file to a draft or returned change request (new or modify)."""
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    if len(data) > max_bytes:
        raise TooLarge(f"附件过大：{len(data)} 字节，上限为 {max_bytes} 字节", code="attachment_too_large",
                       details={"limit_bytes": max_bytes})
    if not data:
        raise ValidationFailed({"file": "文件为空"})
    media_type = sniff(data)
    if media_type is None:
        raise ValidationFailed({"file": f"只能上传 {'、'.join(dict.fromkeys(ACCEPTED.values()))} 文件（按文件内容判断，"
                                        "与扩展名无关）"}, "附件类型不支持")
    name = (file_name or "附件").replace("\\", "/").rsplit("/", 1)[-1][:255] or "附件"
    with uow:
        s = uow.session
        cr = _change_request(s, actor, cr_id, for_update=True)
        next_state(cr.state, Action.EDIT)  # only while it can still be edited
        if not ChangeKind(cr.kind).carries_content:
            raise ValidationFailed({"file": "只有新增或修改知识的申请可以上传依据文件"})
        key = f"{now:%Y/%m}/{uuid.uuid4().hex}"
        store.put(key, data, media_type)
        attachment = Attachment(
            change_request_id=cr.id, unit_id=cr.unit_id, file_name=name, media_type=media_type,
            size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
            text=extract_text(media_type, data), uploaded_by_id=actor.user_id, uploaded_at=now)
        s.add(attachment)
        s.flush()
        view = AttachmentSnapshot.of(attachment)
        audit.record(s, actor, "attachment.upload", "change_request", cr.id, None, _record(view), now)
        uow.commit()
        return view


def list_for_change_request(uow: UnitOfWork, actor: Actor, cr_id: int) -> list[AttachmentSnapshot]:
    """The files the change request will publish: those of the version it modifies, then its own."""
    with uow:
        s = uow.session
        cr = _change_request(s, actor, cr_id)
        base = _base_version_id(s, cr)
        inherited = [AttachmentSnapshot.of(a, inherited=True) for a in (_version_files(s, base) if base else [])]
        return inherited + [AttachmentSnapshot.of(a) for a in _own_files(s, cr.id)]


def remove(uow: UnitOfWork, store: BlobStore, actor: Actor, cr_id: int, attachment_id: int, *, now: datetime) -> None:
    """Take back a file uploaded to this change request while it is still a draft (or returned)."""
    require_role(actor, Role.MAINTAINER, Role.OFFICE_ADMIN)
    with uow:
        s = uow.session
        cr = _change_request(s, actor, cr_id, for_update=True)
        next_state(cr.state, Action.EDIT)
        attachment = s.get(Attachment, attachment_id)
        if attachment is None or attachment.change_request_id != cr.id:
            raise NotFound(f"此变更申请没有附件 {attachment_id}（已发布版本的附件不能在此删除）",
                           code="attachment_not_found")
        key = attachment.storage_key
        audit.record(s, actor, "attachment.remove", "change_request", cr.id,
                     {**_record(AttachmentSnapshot.of(attachment)), "inherited": False}, None, now)
        s.delete(attachment)
        uow.after_commit(lambda: store.delete(key))
        uow.commit()


def link_on_publish(session: Session, cr: ChangeRequest, version: KnowledgeVersion) -> None:
    """Inside the publishing transaction: the new version's files, and its attachment count."""
    base = _base_version_id(session, cr)
    files = (_version_files(session, base) if base else []) + _own_files(session, cr.id)
    for position, attachment in enumerate(files):
        session.add(VersionAttachment(version_id=version.id, attachment_id=attachment.id, position=position))
    if files:
        version.policy_attachments = len(files)  # Art. 9(4): the number of files, not a typed number
    session.flush()


def _entry_readable(session: Session, actor: Actor, entry: KnowledgeEntry, today: date) -> bool:
    if can_see_unpublished(actor, entry.unit_id):
        return True
    version = session.scalar(select(KnowledgeVersion).where(KnowledgeVersion.entry_id == entry.id,
                                                            KnowledgeVersion.number == entry.published_number))
    assert version is not None  # an entry always has its published version (the has_published_version check)
    return (entry.status == EntryStatus.PUBLISHED.value and version.effective_on <= today
            and (version.expires_on is None or version.expires_on >= today))


def list_for_entry(uow: UnitOfWork, actor: Actor, entry_id: int, *, today: date,
                   version: int | None = None) -> list[AttachmentSnapshot]:
    """The files of an entry's published version (the current one unless `version` names another)."""
    require_role(actor, *READERS)
    with uow:
        s = uow.session
        entry = s.get(KnowledgeEntry, entry_id)
        if entry is None or not _entry_readable(s, actor, entry, today):
            raise NotFound(f"知识 {entry_id} 不存在或已下架", code="entry_not_found")
        number = version or entry.published_number
        if number != entry.published_number and not can_see_unpublished(actor, entry.unit_id):
            raise PermissionDenied("只有本单位和热线办可以查看历史版本的附件")
        version_id = s.scalar(select(KnowledgeVersion.id).where(KnowledgeVersion.entry_id == entry_id,
                                                                KnowledgeVersion.number == number))
        if version_id is None:
            raise NotFound(f"知识 {entry_id} 没有版本 {number}", code="version_not_found")
        return [AttachmentSnapshot.of(a) for a in _version_files(s, version_id)]


def download(uow: UnitOfWork, store: BlobStore, actor: Actor, attachment_id: int, *,
             today: date) -> tuple[AttachmentSnapshot, bytes]:
    """A file's bytes for whoever may read what it belongs to.

    The unit that owns it and the office: always. Anyone else who reads
    knowledge: only a file of the current version of a published entry in
    effect today (operators never get a draft's or a withdrawn entry's file).
    """
    require_role(actor, *READERS)
    with uow:
        s = uow.session
        attachment = s.get(Attachment, attachment_id)
        missing = NotFound(f"附件 {attachment_id} 不存在", code="attachment_not_found")
        if attachment is None:
            raise missing
        if not can_see_unpublished(actor, attachment.unit_id):
            live = s.execute(
                select(func.count()).select_from(VersionAttachment)
                .join(KnowledgeVersion, KnowledgeVersion.id == VersionAttachment.version_id)
                .join(KnowledgeEntry, (KnowledgeEntry.id == KnowledgeVersion.entry_id)
                      & (KnowledgeEntry.published_number == KnowledgeVersion.number))
                .where(VersionAttachment.attachment_id == attachment.id,
                       KnowledgeEntry.status == EntryStatus.PUBLISHED.value, KnowledgeVersion.effective_on <= today,
                       (KnowledgeVersion.expires_on.is_(None)) | (KnowledgeVersion.expires_on >= today))).scalar()
            if not live:
                raise missing
        view = AttachmentSnapshot.of(attachment)
        key = attachment.storage_key
    try:
        return view, store.get(key)
    except BlobMissing:
        log.error("attachment %s: its file %s is missing from the store", attachment_id, key)
        raise NotFound("附件文件已丢失，请联系管理员从备份恢复（kb restore）", code="attachment_file_missing") from None


