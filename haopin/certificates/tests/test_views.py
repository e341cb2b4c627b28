"""The public verification page and the certificate PDF over HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from haopin.certificates import services
from haopin.certificates.tests.factories import SHANGHAI, application, at, batch
from haopin.core import numbering
from haopin.evaluation.models import Application, Batch

pytestmark = pytest.mark.urls("haopin.certificates.tests.urls")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(at(2025, 6, 20), tick=False) as traveller:
        yield traveller


@pytest.fixture
def cert(province):
    the_batch = batch(
        status=Batch.Status.PUBLISHED, published_at=dt.datetime(2025, 6, 18, 9, tzinfo=SHANGHAI)
    )
    application(province, the_batch, who="alice", status=Application.Status.PUBLISHED)
    [issued] = services.certificates_issue_for_batch(actor=province.office, batch=the_batch)
    return issued


def verify_url(number: str) -> str:
    return reverse("certificates:verify", args=[number])


def test_anyone_verifies_a_certificate_by_its_number(client, province, cert, django_assert_max_num_queries):
    services.certificate_suspend(actor=province.office, certificate=cert, reason="抽检不合格，限期整改")
    with django_assert_max_num_queries(4):
        response = client.get(verify_url(cert.number))
    assert response.status_code == 200
    page = response.content.decode()
    for expected in (
        cert.number,
        "暂停",
        "抽检不合格，限期整改",
        "泉城食品有限公司",
        province.alice_ent.uscc,
        "泉城（产品品牌）",
        "泉城酥锅 500g",
        "2025年6月18日至2028年6月17日",
        "有效 → 暂停",
        "评价结果发布，颁发证书",
    ):
        assert expected in page, expected
    # Nothing private: no phone, no person, no internal ids.
    assert "13800" not in page and "office" not in page


def test_an_unknown_number_is_404_and_a_typo_gets_its_own_message(client, cert):
    unknown = numbering.with_check("HP2025999999")
    response = client.get(verify_url(unknown))
    assert response.status_code == 404 and "未查询到" in response.content.decode()
    typo = cert.number[:-1] + ("0" if cert.number[-1] != "0" else "1")
    response = client.get(verify_url(typo))
    assert response.status_code == 400
    assert "校验位不符" in response.content.decode() and "请核对是否录入有误" in response.content.decode()


def test_a_number_typed_loosely_leads_to_the_canonical_page(client, cert):
    response = client.get(reverse("certificates:verify-form"), {"number": f" {cert.number.lower()} "})
    assert response.status_code == 302 and response["Location"] == verify_url(cert.number)
    response = client.get(verify_url(cert.number.lower()))
    assert response.status_code == 302 and response["Location"] == verify_url(cert.number)
    assert client.get(reverse("certificates:verify-form")).status_code == 200
    assert client.post(verify_url(cert.number)).status_code == 405


def test_the_pdf_is_for_those_who_may_see_the_certificate(client, as_user, province, cert):
    url = reverse("certificates:certificate-pdf", args=[cert.uuid])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for who in ("bob", "city_qingdao", "dept_commerce"):
        assert as_user(getattr(province, who)).get(url).status_code == 404
    response = as_user(province.alice_viewer).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{cert.number}.pdf"'
    assert response.content.startswith(b"%PDF")
