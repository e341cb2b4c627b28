"""The workspace pages of certificates: the list (scope, filters, expiring soon, export, query
counts), the certificate's page (history, scope, products, links) and the office's status
changes with a reason — refused to read-only members and to everyone else, and on bad input."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from haopin.certificates import services
from haopin.certificates.models import Certificate, CertificateEvent
from haopin.certificates.tests.factories import SHANGHAI, application, at, batch
from haopin.core.models import AuditEvent
from haopin.evaluation.models import Application, Batch

LIST = reverse("certificates:certificate-list")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(at(2025, 6, 20), tick=False) as traveller:
        yield traveller


@pytest.fixture
def certs(province):
    the_batch = batch(
        status=Batch.Status.PUBLISHED, published_at=dt.datetime(2025, 6, 18, 9, tzinfo=SHANGHAI)
    )
    application(province, the_batch, who="alice", status=Application.Status.PUBLISHED)
    application(province, the_batch, who="bob", status=Application.Status.PUBLISHED)
    issued = services.certificates_issue_for_batch(actor=province.office, batch=the_batch)
    return {c.brand_id: c for c in issued}


def alice_cert(province, certs) -> Certificate:
    return certs[province.alice_brand.pk]


def bob_cert(province, certs) -> Certificate:
    return certs[province.bob_brand.pk]


def action_url(cert, action: str) -> str:
    return reverse("certificates:certificate-action", args=[cert.uuid, action])


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return sorted(row.cells[0].text for row in response.context["rows"])


# --- the list ---------------------------------------------------------------------------------------


def test_each_sees_the_certificates_in_their_scope(province, as_user, certs):
    alice, bob = alice_cert(province, certs), bob_cert(province, certs)
    assert numbers(as_user(province.office).get(LIST)) == sorted([alice.number, bob.number])
    assert numbers(as_user(province.alice).get(LIST)) == [alice.number]
    assert numbers(as_user(province.city_qingdao).get(LIST)) == [bob.number]
    assert numbers(as_user(province.dept_agri).get(LIST)) == [bob.number]  # tea, a GI brand
    assert as_user(province.expert).get(LIST).status_code == 403


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("?city=370100", ["alice"]),
        ("?city=370200", ["bob"]),
        ("?category=201", ["alice"]),
        ("?category=105", ["bob"]),
        ("?batch=2025-3", ["alice", "bob"]),
        ("?batch=2024-1", ["alice", "bob"]),  # unknown: ignored
        ("?status=suspended", ["bob"]),
        ("?status=valid", ["alice"]),
        ("?q=泉城", ["alice"]),
    ],
)
def test_filters_and_search(province, as_user, certs, query, who):
    services.certificate_suspend(
        actor=province.office, certificate=bob_cert(province, certs), reason="抽检不合格"
    )
    expected = sorted(certs[getattr(province, f"{name}_brand").pk].number for name in who)
    assert numbers(as_user(province.office).get(LIST + query)) == expected


def test_expiring_within_30_days(province, as_user, certs, clock):
    alice = alice_cert(province, certs)
    Certificate.objects.filter(pk=alice.pk).update(valid_until=dt.date(2025, 7, 10))
    client = as_user(province.office)
    assert numbers(client.get(LIST + "?expiring=30")) == [alice.number]
    assert numbers(client.get(LIST + "?expiring=90")) == [alice.number]
    services.certificate_suspend(actor=province.office, certificate=alice, reason="暂停")
    assert numbers(client.get(LIST + "?expiring=30")) == []  # only valid certificates expire "soon"


def test_export_follows_the_filters(province, as_user, certs):
    response = as_user(province.office).get(LIST + "?city=370100&export=xlsx")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[0][:3] == ("证书编号", "品牌", "持证主体")
    assert [r[0] for r in rows[1:]] == [alice_cert(province, certs).number]
    assert rows[1][3] == "济南市"


def test_list_query_count_does_not_grow(province, as_user, certs, django_assert_max_num_queries):
    client = as_user(province.office)
    client.get(LIST)
    with django_assert_max_num_queries(10) as few:
        client.get(LIST)
    count = len(few.captured_queries)
    the_batch = Batch.objects.get()
    source = alice_cert(province, certs)
    for n in range(20):
        with_number = Certificate.objects.create(
            number=f"HPTEST{n:06d}",
            application=Application.objects.create(
                number=f"SQX{n:06d}", batch=the_batch, enterprise=source.enterprise, brand=source.brand,
                rule_set=source.application.rule_set, status=Application.Status.WITHDRAWN,
                created_by=province.alice,
            ),
            batch=the_batch, brand=source.brand, enterprise=source.enterprise, scope="x",
            issued_on=source.issued_on, valid_from=source.valid_from, valid_until=source.valid_until,
        )  # fmt: skip
        assert with_number.pk
    assert len(client.get(LIST + "?size=50").context["rows"]) == 22
    with django_assert_max_num_queries(count):
        client.get(LIST + "?size=50")


# --- the certificate's page ----------------------------------------------------------------------------


def test_the_page_shows_scope_products_history_and_links(province, as_user, certs):
    cert = alice_cert(province, certs)
    services.certificate_suspend(actor=province.office, certificate=cert, reason="标识使用不规范，限期整改")
    page = as_user(province.office).get(cert.get_absolute_url())
    body = page.content.decode()
    for text in (
        cert.number,
        "泉城食品有限公司",
        "泉城酥锅 500g",
        "2025年6月18日至2028年6月17日",
        "有效 → 暂停",
        "标识使用不规范，限期整改",
        reverse("certificates:certificate-pdf", args=[cert.uuid]),
        reverse("certificates:verify", args=[cert.number]),
        action_url(cert, "restore"),
        action_url(cert, "revoke"),
    ):
        assert text in body, text
    assert action_url(cert, "suspend") not in body
    assert [a["action"] for a in page.context["actions"]] == ["restore", "revoke", "withdraw"]


def test_holders_see_their_own_certificate_without_buttons_and_no_one_else_s(province, as_user, certs):
    cert = alice_cert(province, certs)
    page = as_user(province.alice).get(cert.get_absolute_url())
    assert page.status_code == 200 and page.context["actions"] == []
    for user in (province.bob, province.city_qingdao, province.expert):
        assert as_user(user).get(cert.get_absolute_url()).status_code == 404
        assert as_user(user).post(action_url(cert, "suspend"), {"reason": "x"}).status_code == 404
    assert as_user(province.alice).post(action_url(cert, "suspend"), {"reason": "x"}).status_code == 403
    cert.refresh_from_db()
    assert cert.status == Certificate.Status.VALID


# --- status changes ---------------------------------------------------------------------------------


def test_the_office_suspends_and_restores_with_reasons(province, as_user, certs):
    cert = alice_cert(province, certs)
    client = as_user(province.office)
    form = client.get(action_url(cert, "suspend"))
    assert form.status_code == 200 and form.context["form"]["expected_status"].value() == "valid"
    response = client.post(
        action_url(cert, "suspend"), {"reason": "抽检不合格，限期整改", "expected_status": "valid"}
    )
    assert response.status_code == 302 and response["Location"] == cert.get_absolute_url()
    cert.refresh_from_db()
    assert (cert.status, cert.status_reason) == ("suspended", "抽检不合格，限期整改")
    event = AuditEvent.objects.get(action="certificates.certificate.suspended")
    assert event.actor_id == province.office.pk and event.new["reason"] == "抽检不合格，限期整改"
    response = client.post(
        action_url(cert, "restore"), {"reason": "整改完成", "expected_status": "suspended"}
    )
    cert.refresh_from_db()
    assert cert.status == "valid"
    assert list(CertificateEvent.objects.filter(certificate=cert).values_list("to_status", flat=True)) == [
        "valid",
        "suspended",
        "valid",
    ]


def test_a_missing_reason_changes_nothing(province, as_user, certs):
    cert = alice_cert(province, certs)
    response = as_user(province.office).post(
        action_url(cert, "revoke"), {"reason": "  ", "expected_status": "valid"}
    )
    assert response.status_code == 422 and response.context["form"].errors["reason"]
    cert.refresh_from_db()
    assert cert.status == "valid"
    assert not AuditEvent.objects.filter(action="certificates.certificate.revoked").exists()


def test_a_change_made_meanwhile_is_reported(province, as_user, certs):
    cert = alice_cert(province, certs)
    services.certificate_suspend(actor=province.office, certificate=cert, reason="先暂停")
    response = as_user(province.office).post(
        action_url(cert, "revoke"), {"reason": "撤销", "expected_status": "valid"}
    )
    assert response.status_code == 409 and "已被他人处理" in response.content.decode()
    cert.refresh_from_db()
    assert cert.status == "suspended"


def test_moves_the_status_does_not_allow_are_refused(province, as_user, certs):
    cert = alice_cert(province, certs)
    client = as_user(province.office)
    page = client.get(action_url(cert, "restore"))
    assert page.status_code == 409 and "不能恢复证书" in page.content.decode()
    assert client.get(action_url(cert, "expire")).status_code == 404  # never a person's move
    posted = client.post(action_url(cert, "restore"), {"reason": "恢复"})
    assert posted.status_code == 409
    cert.refresh_from_db()
    assert cert.status == "valid"


def test_read_only_office_member_sees_but_cannot_change(province, as_user, certs):
    cert = alice_cert(province, certs)
    client = as_user(province.office_viewer)
    page = client.get(cert.get_absolute_url())
    assert page.status_code == 200 and page.context["actions"] == [] and "只读" in page.content.decode()
    assert client.get(action_url(cert, "suspend")).status_code == 403
    assert (
        client.post(action_url(cert, "suspend"), {"reason": "x", "expected_status": "valid"}).status_code
        == 403
    )
    cert.refresh_from_db()
    assert cert.status == "valid"
