"""The certificate as a PDF: an HTML/CSS template rendered by WeasyPrint (A4, Chinese).

Glyphs: the template names the system's CJK fonts by family ("Noto Serif CJK SC", from
Debian's ``fonts-noto-cjk``; WenQuanYi Micro Hei as a fallback), which Pango resolves through
fontconfig to the Simplified-Chinese face of the installed collection, and WeasyPrint embeds the
used glyphs as a subset. An ``@font-face`` with ``local()`` or a file URL is deliberately not
used: WeasyPrint then copies the whole .ttc collection (tens of MB) for every document and loses
the collection index, so the Japanese face (JP glyph forms) is embedded instead of the Chinese
one. Without ``libharfbuzz-subset0`` WeasyPrint embeds whole fonts and a page takes seconds.

The QR code (segno, inline SVG) carries the public verification URL, ``settings.PUBLIC_URL``
plus ``certificates:verify``. Rendering fetches nothing: only ``data:`` URLs are allowed.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from haopin.certificates.models import Certificate
from haopin.certificates.services import ISSUING_BODY
from haopin.core.errors import DomainError

CJK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei")


class FontMissing(DomainError):
    status = 503
    code = "pdf_font_missing"


def font_problem_in(installed: str) -> str:
    """The message for a server whose fontconfig lists ``installed`` Chinese families, or ""."""
    if any(family in installed for family in CJK_FAMILIES):
        return ""
    return (
        "服务器未安装中文字体，无法生成证书 PDF。"
        "请安装 fonts-noto-cjk（Debian/Ubuntu：apt-get install fonts-noto-cjk）。"
    )


@functools.cache
def cjk_font_problem() -> str:
    """Asked once per process: is a Chinese font installed? ("" when it is)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ""  # cannot tell; WeasyPrint itself needs fontconfig, so this is unusual
    result = subprocess.run(
        [fc_list, ":lang=zh-cn", "family"], capture_output=True, text=True, check=False, timeout=10
    )
    return font_problem_in(result.stdout)


def verify_url(certificate: Certificate) -> str:
    return settings.PUBLIC_URL + reverse("certificates:verify", args=[certificate.number])


def qr_svg(url: str) -> str:
    # Level M survives a scuffed print; the URL is short enough for a version 4 symbol.
    return segno.make(url, error="m").svg_inline(scale=3, border=0, dark="#1f2328")


# The page has room for about this many characters of scope; a longer list of products is cut
# short on paper and points to the verification page, which shows the whole scope.
SCOPE_CHARS = 64


def scope_lines(scope: str) -> list[str]:
    lines = []
    for line in (part.strip() for part in scope.splitlines()):
        if not line:
            continue
        items = line.split("；")
        if len(line) > SCOPE_CHARS and len(items) > 1:
            kept: list[str] = []
            while items and len("；".join([*kept, items[0]])) <= SCOPE_CHARS:
                kept.append(items.pop(0))
            total = len(kept) + len(items)
            line = "；".join(kept or [items[0][:SCOPE_CHARS]]) + f"等{total}项（完整范围见证书核验页面）"
        lines.append(line)
    return lines


def certificate_context(certificate: Certificate) -> dict:
    url = verify_url(certificate)
    return {
        "certificate": certificate,
        "brand": certificate.brand,
        "enterprise": certificate.enterprise,
        "scope_lines": scope_lines(certificate.scope),
        "verify_url": url,
        "qr": qr_svg(url),
        "issuing_body": ISSUING_BODY,
        "is_valid": certificate.status == Certificate.Status.VALID,
        "generated_at": timezone.now(),
    }


def render_certificate_pdf(certificate: Certificate) -> bytes:
    problem = cjk_font_problem()
    if problem:
        raise FontMissing(problem)
    certificate = Certificate.objects.select_related("brand__brand_type", "enterprise").get(pk=certificate.pk)
    html = render_to_string("certificates/certificate_pdf.html", certificate_context(certificate))
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
