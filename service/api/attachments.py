"""Basis documents (Art. 9(4)): files on change requests, kept with published versions, read like the entry."""
from __future__ import annotations

import io

from flask import current_app, request, send_file
from flask.views import MethodView

from kb.models import Role
from kb.services import attachments
from service.api import kb
from service.api.common import api_blueprint, documented_errors, roles
from service.auth import current_actor
from service.schemas.common import ShortListArgs, page, page_of
from service.schemas.attachments import AttachmentFile, AttachmentSchema, EntryAttachmentArgs

blp = api_blueprint("attachments", __name__, "依据文件（附件）：随变更申请上传，随版本发布")

MULTIPART_ROOM = 1024 * 1024


@blp.before_request
def _allow_large_upload():
    """An attachment may be larger than other request bodies (KB_ATTACHMENT_MAX_BYTES)."""
    if request.method == "POST":
        request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"] or 0,
                                         current_app.config["ATTACHMENT_MAX_BYTES"] + MULTIPART_ROOM)


@blp.route("/change-requests/<int:cr_id>/attachments")
class ChangeRequestAttachments(MethodView):
    @roles(Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(ShortListArgs, location="query")
    @blp.response(200, page_of(AttachmentSchema))
    @documented_errors(blp, 401, 403, 404)
    def get(self, args, cr_id):
        """Files the change request will publish: the modified version's, then its own uploads ({items, total})"""
        return page(attachments.list_for_change_request(kb().reader(), current_actor(), cr_id), args)

    @roles(Role.MAINTAINER, Role.OFFICE_ADMIN)
    @blp.arguments(AttachmentFile, location="files")
    @blp.response(201, AttachmentSchema)
    @documented_errors(blp, 401, 403, 404, 409, 413, 422)
    def post(self, files, cr_id):
        """Upload a basis document (PDF, DOCX, XLSX or an image, judged by content) to a draft or returned request"""
        upload = files["file"]
        return attachments.upload(kb().uow(), kb().attachments, current_actor(), cr_id,
                                  file_name=upload.filename or "", data=upload.read(), now=kb().now(),
                                  max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"])


@blp.route("/change-requests/<int:cr_id>/attachments/<int:attachment_id>")
class ChangeRequestAttachment(MethodView):
    @blp.response(204)
    @documented_errors(blp, 401, 403, 404, 409)
    def delete(self, cr_id, attachment_id):
        """Remove a file uploaded to this request while it can still be edited"""
        attachments.remove(kb().uow(), kb().attachments, current_actor(), cr_id, attachment_id, now=kb().now())


@blp.route("/knowledge/<int:entry_id>/attachments")
class EntryAttachments(MethodView):
    @roles(Role.OPERATOR, Role.MAINTAINER, Role.UNIT_REVIEWER, Role.OFFICE_ADMIN)
    @blp.arguments(EntryAttachmentArgs, location="query")
    @blp.response(200, page_of(AttachmentSchema))
    @documented_errors(blp, 401, 403, 404, 422)
    def get(self, args, entry_id):
        """Files of an entry's published version (operators: entries in effect only)"""
        return page(attachments.list_for_entry(kb().reader(), current_actor(), entry_id, today=kb().today(),
                                               version=args.get("version")), args)


@blp.route("/attachments/<int:attachment_id>")
class AttachmentDownload(MethodView):
    @blp.response(200, description="文件内容", content_type="application/octet-stream")
    @documented_errors(blp, 401, 403, 404)
    def get(self, attachment_id):
        """Download a file, authorized like the knowledge it belongs to"""
        view, data = attachments.download(kb().reader(), kb().attachments, current_actor(), attachment_id,
                                          today=kb().today())
        response = send_file(io.BytesIO(data), mimetype=view.media_type, as_attachment=True,
                             download_name=view.file_name)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
