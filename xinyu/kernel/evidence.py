"""Evidence files (photos, minutes, sign-in sheets, slides) attached to an activity (issue 13
item 7). Each app declares its own concrete model on `EvidenceFile` with a foreign key to its
activity, so a file is fetched through that app's access module (`policy.one_for` on the
files of the activities the user may see) and served by `serve`; no generic foreign key, no
file under the web root.

    class LessonEvidence(EvidenceFile):
        lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="evidence")

Services call `check_upload(upload)` before saving (size, type sniffed from the content, a
real image for image types) and raise its `ServiceError` to the form.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _

from .errors import ServiceError

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp"}
DOCUMENT_TYPES = {
    "application/pdf": b"%PDF-",
    # docx / xlsx / pptx are zip containers
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": b"PK\x03\x04",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": b"PK\x03\x04",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": b"PK\x03\x04",
}


def evidence_storage() -> FileSystemStorage:
    return FileSystemStorage(location=settings.VAR_DIR / "media" / "evidence")


def new_uid() -> uuid.UUID:
    """A uuid4, as `xinyu.org.models.new_uid` (the kernel imports no org)."""
    return uuid.uuid4()


class EvidenceFile(models.Model):
    uid = models.UUIDField(default=new_uid, unique=True, editable=False)
    file = models.FileField(_("file"), storage=evidence_storage, upload_to="%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    caption = models.CharField(_("caption"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey("org.User", on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES


def check_upload(upload: UploadedFile) -> str:
    """The upload's content type, checked from its bytes; a ServiceError (field `file`) if it
    is too large, of a kind not accepted or not what it claims to be."""
    if upload.size is None or upload.size > MAX_EVIDENCE_BYTES:
        raise ServiceError(
            "附件：文件不能超过 10 MB。", "Attachment: the file may not exceed 10 MB.", field="file"
        )
    claimed = upload.content_type or ""
    head = upload.read(8)
    upload.seek(0)
    if claimed in DOCUMENT_TYPES:
        if not head.startswith(DOCUMENT_TYPES[claimed]):
            raise ServiceError(
                "附件：文件内容与其类型不符。",
                "Attachment: the file's content does not match its type.",
                field="file",
            )
        return claimed
    if claimed not in IMAGE_TYPES:
        raise ServiceError(
            "附件：只接受 JPEG、PNG、WebP 图片或 PDF、Word、Excel、PowerPoint 文件。",
            "Attachment: only JPEG, PNG or WebP images, or PDF, Word, Excel or PowerPoint files.",
            field="file",
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(upload) as image:
            image.verify()
            kind = (image.format or "").lower()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ServiceError(
            "附件：文件不是有效的图片。", "Attachment: the file is not a valid image.", field="file"
        ) from exc
    finally:
        upload.seek(0)
    if IMAGE_TYPES[claimed] != kind:
        raise ServiceError(
            "附件：文件内容与其类型不符。",
            "Attachment: the file's content does not match its type.",
            field="file",
        )
    return claimed


def attach(evidence: EvidenceFile, upload: UploadedFile, *, caption: str = "") -> EvidenceFile:
    """Fill and save an unsaved evidence row (its activity and `uploaded_by` set by the caller's
    service, which also writes the audit row)."""
    evidence.content_type = check_upload(upload)
    evidence.name = (upload.name or "file")[:200]
    evidence.caption = caption.strip()[:100]
    evidence.file.save(evidence.name, upload, save=False)
    evidence.save()
    return evidence


def serve(evidence: EvidenceFile) -> FileResponse:
    """The file, as a download unless it is an image (shown inline); `nosniff` is site-wide."""
    return FileResponse(
        evidence.file.open("rb"),
        as_attachment=not evidence.is_image,
        filename=evidence.name,
        content_type=evidence.content_type,
    )
