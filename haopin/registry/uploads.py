"""Checking uploaded files: size first, then the content's real type (never the file name)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

import filetype
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from haopin.core.errors import ValidationFailed

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TYPE_NAMES = {PDF: "PDF", JPEG: "JPEG 图片", PNG: "PNG 图片", XLSX: "Excel（.xlsx）"}
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png", XLSX: "xlsx"}


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    extension: str
    size: int
    sha256: str


def check_upload(upload: IO[bytes], *, allowed: set[str], max_mb: int | None = None) -> CheckedFile:
    """Validate an uploaded file; raises ValidationFailed with a message for the uploader."""
    limit_mb = max_mb or settings.MAX_UPLOAD_MB
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size == 0:
        raise ValidationFailed("上传的文件是空文件。", details={"file": "文件为空。"})
    if size > limit_mb * 1024 * 1024:
        raise ValidationFailed(
            f"文件过大：{size / 1024 / 1024:.1f} MB，超过 {limit_mb} MB 的上限。",
            details={"file": f"文件不能超过 {limit_mb} MB。"},
        )
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    mime = kind.mime if kind else ""
    if mime not in allowed:
        wanted = "、".join(TYPE_NAMES[t] for t in sorted(allowed))
        found = TYPE_NAMES.get(mime, "无法识别的格式")
        raise ValidationFailed(
            f"文件类型不符：实际内容为{found}，此处只接受 {wanted}。（按文件内容识别，与扩展名无关）",
            details={"file": f"只接受 {wanted}。"},
        )
    if mime in {JPEG, PNG}:
        upload.seek(0)
        try:
            with Image.open(upload) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise ValidationFailed("图片已损坏，无法打开。", details={"file": "图片已损坏。"}) from exc
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(mime, EXTENSIONS[mime], size, digest.hexdigest())
