"""The certificate PDF: A4, Chinese text with the font embedded as a subset, the number, and a
QR code pointing at the public verification page."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from haopin.certificates import pdf, services
from haopin.certificates.tests.factories import SHANGHAI, application, at, batch
from haopin.evaluation.models import Application, Batch

pytestmark = pytest.mark.urls("haopin.certificates.tests.urls")


@pytest.fixture
def cert(province):
    with time_machine.travel(at(2025, 6, 20), tick=False):
        the_batch = batch(
            status=Batch.Status.PUBLISHED, published_at=dt.datetime(2025, 6, 18, 9, tzinfo=SHANGHAI)
        )
        application(province, the_batch, who="bob", status=Application.Status.PUBLISHED)
        [issued] = services.certificates_issue_for_batch(actor=province.office, batch=the_batch)
    return issued


def embedded_fonts(reader: PdfReader) -> dict[str, bool]:
    """BaseFont name → whether its program is embedded (what ``pdffonts`` lists)."""
    fonts = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            fonts[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    return fonts


def test_the_certificate_renders_as_an_a4_pdf_with_embedded_chinese_glyphs(province, cert, settings):
    settings.PUBLIC_URL = "https://haopin.example.cn"
    data = pdf.render_certificate_pdf(cert)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)
    text = reader.pages[0].extract_text()
    compact = "".join(text.split())
    for expected in (
        cert.number,
        "好品山东”品牌证书",
        "崂山茶业有限公司",
        province.bob_ent.uscc,
        "崂山绿茶（地理标志品牌）",
        "2025年6月18日至2028年6月17日",
        "山东省质量强省工作领导小组办公室",
        "https://haopin.example.cn" + reverse("certificates:verify", args=[cert.number]),
    ):
        assert expected in compact, expected
    fonts = embedded_fonts(reader)
    cjk = {name: embedded for name, embedded in fonts.items() if "CJK" in name or "WenQuanYi" in name}
    assert cjk, fonts
    # Subsets are named "ABCDEF+Family" (six capitals and a plus): only used glyphs are embedded.
    assert all(embedded and name[7] == "+" and name[1:7].isupper() for name, embedded in cjk.items()), cjk
    assert reader.metadata.title == f"“好品山东”品牌证书 {cert.number}"


def test_a_certificate_that_is_no_longer_valid_says_so(province, cert):
    services.certificate_revoke(actor=province.office, certificate=cert, reason="冒用标识，情节严重")
    text = "".join(PdfReader(io.BytesIO(pdf.render_certificate_pdf(cert))).pages[0].extract_text().split())
    assert "证书当前状态：撤销（冒用标识，情节严重）" in text


def test_the_qr_code_carries_the_verification_url(cert, settings):
    settings.PUBLIC_URL = "https://haopin.example.cn"
    url = pdf.verify_url(cert)
    assert url == f"https://haopin.example.cn/certificates/verify/{cert.number}/"
    svg = pdf.qr_svg(url)
    assert svg.startswith("<svg") and "<script" not in svg


def test_a_long_scope_stays_on_one_page_and_points_to_the_full_record(province, cert):
    from haopin.registry.models import Product

    products = [
        Product.objects.create(
            brand=province.bob_brand, name=f"崂山绿茶礼盒{i:02d}", specification="500g 特级"
        )
        for i in range(40)
    ]
    cert.scope = services.scope_text(cert.application, products)
    cert.save()
    lines = pdf.scope_lines(cert.scope)
    assert lines[0] == "品牌：崂山绿茶（地理标志品牌）" and lines[-1] == "授权使用“好品山东”标识"
    assert lines[1].endswith("等40项（完整范围见证书核验页面）") and len(lines[1]) < pdf.SCOPE_CHARS + 30
    reader = PdfReader(io.BytesIO(pdf.render_certificate_pdf(cert)))
    assert len(reader.pages) == 1
    # The table ends above the QR code at the foot (PDF y grows upwards; the code's top is about
    # 12 mm above its caption's first line).
    heights: dict[str, float] = {}

    def visit(text, cm, tm, font, size):
        for key in ("至2028年", "扫码核验证书状态"):
            if key in text:
                heights.setdefault(key, tm[5] * cm[3] + cm[5])

    reader.pages[0].extract_text(visitor_text=visit)
    assert heights["至2028年"] - heights["扫码核验证书状态"] > 14 * 72 / 25.4, heights


def test_a_missing_chinese_font_is_named():
    assert pdf.cjk_font_problem() == ""  # this machine has one (the render test needs it)
    assert pdf.font_problem_in("Noto Serif CJK SC,Noto Serif CJK SC SemiBold\n") == ""
    assert pdf.font_problem_in("WenQuanYi Micro Hei\n") == ""
    assert "apt-get install fonts-noto-cjk" in pdf.font_problem_in("DejaVu Sans\n")
