"""Document downloads: only for those the policy allows, as attachments that a browser will not
sniff into something else; 404 for everyone else."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from haopin.core.http import content_disposition
from haopin.registry import services
from haopin.registry.tests.test_services import PDF, png_bytes


@pytest.fixture
def licence(province):
    return services.document_upload(
        actor=province.alice,
        upload=SimpleUploadedFile("营业执照 2024.pdf", PDF),
        name="营业执照 2024.pdf",
        purpose="licence",
        enterprise=province.alice_ent,
    )


def download(client, document):
    return client.get(reverse("registry:document-download", args=[document.uuid]))


def test_owner_downloads_the_file_as_an_attachment(province, as_user, licence):
    response = download(as_user(province.alice), licence)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"____ 2024.pdf\"; filename*=UTF-8''" + quote("营业执照 2024.pdf", safe="")
    )
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_stored_content_type_is_sent_not_the_name_extension(province, as_user):
    scan = services.document_upload(
        actor=province.alice,
        upload=SimpleUploadedFile("scan.pdf", png_bytes()),
        name="scan.pdf",
        purpose="evidence",
        brand=province.alice_brand,
    )
    response = download(as_user(province.alice), scan)
    assert response["Content-Type"] == "image/png"
    assert 'filename="scan.pdf"' in response["Content-Disposition"]


@pytest.mark.parametrize("persona", ["office", "office_viewer", "city_jinan", "county_lixia", "alice_viewer"])
def test_those_who_see_the_enterprise_may_download(province, as_user, licence, persona):
    assert download(as_user(getattr(province, persona)), licence).status_code == 200


@pytest.mark.parametrize("persona", ["bob", "city_qingdao", "dept_agri", "expert", "carol"])
def test_others_get_404(province, as_user, licence, persona):
    response = download(as_user(getattr(province, persona)), licence)
    assert response.status_code == 404
    assert b"%PDF" not in response.content


def test_anonymous_is_sent_to_login(client, licence):
    response = download(client, licence)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_missing_file_is_404_not_500(province, as_user, licence, settings):
    Path(settings.MEDIA_ROOT, licence.file.name).unlink()
    assert download(as_user(province.alice), licence).status_code == 404


def test_content_disposition_never_lets_a_name_break_out():
    header = content_disposition('a"b\\c\r\nSet-Cookie: x.pdf')
    assert "\r" not in header and "\n" not in header
    assert header.startswith("attachment; filename=\"a_b_c__Set-Cookie: x.pdf\"; filename*=UTF-8''")
    assert "%0D%0A" in header
