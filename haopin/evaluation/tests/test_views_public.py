"""The public notice pages, without an account: the notices, one notice with its candidates, the
objection form (refused after the notice ended, for duplicates and floods; bad input changes
nothing) and the status of an objection by its number — never an objector's contact details."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from haopin.certificates.tests.factories import application, at, batch, ensure_calendar, rule_set
from haopin.core import numbering
from haopin.core.models import AuditEvent
from haopin.evaluation import notices
from haopin.evaluation.models import Application, Objection
from haopin.registry.models import Brand

A = Application.Status
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
NOTICES = reverse("evaluation:public-notice-list")
LOOKUP = reverse("evaluation:public-objection-lookup")
OBJECTOR = {
    "name": "张三",
    "phone": "13800138000",
    "email": "zhang@example.com",
    "content": "该企业近三年曾因产品抽检不合格被通报，与申报承诺不符。",
}
PRIVATE = ("张三", "13800138000", "zhang@example.com")


@pytest.fixture(autouse=True)
def _calendar_and_cache(db):
    ensure_calendar()
    cache.clear()  # the lodging rate limit lives in the cache
    yield
    cache.clear()


@pytest.fixture
def clock():
    # Friday 26 September 2025; the notice opened today runs to Saturday 11 October.
    with time_machine.travel(at(2025, 9, 26), tick=False) as traveller:
        yield traveller


@pytest.fixture
def notice(province, clock):
    the_batch = batch()
    application(province, the_batch, who="alice")
    application(province, the_batch, who="bob")
    return notices.notice_open(actor=province.office, batch=the_batch)


def apps(province):
    alice = Application.objects.get(brand=province.alice_brand)
    bob = Application.objects.get(brand=province.bob_brand)
    return alice, bob


def detail_url(notice) -> str:
    return reverse("evaluation:public-notice-detail", args=[notice.uuid])


def object_url(notice, app) -> str:
    return reverse("evaluation:public-objection-new", args=[notice.uuid, app.number])


def status_url(number: str) -> str:
    return reverse("evaluation:public-objection-status", args=[number])


def test_anyone_reads_the_list_of_notices(client, notice, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get(NOTICES)
    assert response.status_code == 200
    body = response.content.decode()
    assert notice.title in body and "公示中" in body and "2025年9月26日至2025年10月11日" in body


def test_a_notice_lists_its_candidates_with_a_link_to_object(client, province, notice):
    alice, bob = apps(province)
    response = client.get(detail_url(notice))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        alice.number,
        "泉城",
        "泉城食品有限公司",
        "济南市",
        "加工食品",
        bob.number,
        "崂山绿茶",
        "青岛市",
    ):
        assert text in body, text
    assert object_url(notice, alice) in body and object_url(notice, bob) in body


def test_the_candidates_cost_the_same_queries_however_many(
    client, province, notice, django_assert_max_num_queries
):
    client.get(detail_url(notice))
    with django_assert_max_num_queries(5) as few:
        client.get(detail_url(notice))
    # Counted now: the next request outside the context resets Django's query log.
    count = len(few.captured_queries)
    for n in range(3):
        brand = Brand.objects.create(
            name=f"泉城{n}号",
            owner=province.alice_ent,
            brand_type=province.product_type,
            category=province.cat_food,
            region=province.lixia,
            tier=province.pool,
        )
        extra = Application.objects.create(
            number=numbering.with_check(f"SQ2025{900 + n:06d}"),
            batch=notice.batch,
            enterprise=province.alice_ent,
            brand=brand,
            rule_set=rule_set(province),
            status=A.NOTICE,
            created_by=province.alice,
        )
        extra.decisions.create(
            action="open_notice", from_status="approved", to_status="notice", actor=province.office
        )
    assert len(client.get(detail_url(notice)).context["rows"]) == 5
    with django_assert_max_num_queries(count):
        client.get(detail_url(notice))


def test_an_objection_is_lodged_and_answered_with_its_number(client, province, notice):
    alice, _ = apps(province)
    assert client.get(object_url(notice, alice)).status_code == 200
    response = client.post(
        object_url(notice, alice), {**OBJECTOR, "evidence": SimpleUploadedFile("证据.pdf", PDF)}
    )
    objection = Objection.objects.get()
    assert response.status_code == 302 and response["Location"] == status_url(objection.number)
    assert (objection.name, objection.phone, objection.email) == ("张三", "13800138000", "zhang@example.com")
    assert objection.evidence_sha256
    page = client.get(response["Location"])
    body = page.content.decode()
    assert objection.number in body and "待调查" in body and "请妥善保存编号" in body
    for private in PRIVATE:
        assert private not in body
    notices.objection_answer(
        actor=province.office, objection=objection, outcome="dismissed", answer="经核查，抽检结果合格。"
    )
    body = client.get(status_url(objection.number)).content.decode()
    assert "异议不成立" in body and "经核查，抽检结果合格。" in body
    for private in PRIVATE:
        assert private not in body


def test_the_notice_page_shows_objections_without_who_lodged_them(client, province, notice):
    alice, _ = apps(province)
    client.post(object_url(notice, alice), OBJECTOR)
    body = client.get(detail_url(notice)).content.decode()
    number = Objection.objects.get().number
    assert number in body and "待调查" in body
    for private in PRIVATE:
        assert private not in body


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"phone": "12345"}, "phone", ""),
        ({"content": "不行"}, "content", "不少于10个字"),
        ({"name": ""}, "name", ""),
        ({"email": "not-an-email"}, "email", ""),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
    client, province, notice, data, field, message
):
    alice, _ = apps(province)
    response = client.post(object_url(notice, alice), {**OBJECTOR, **data})
    assert response.status_code == 422
    errors = response.context["form"].errors[field]
    assert errors and message in errors[0]
    assert not Objection.objects.exists()
    assert OBJECTOR["content"] in response.content.decode() or field == "content"


def test_evidence_must_be_a_pdf_or_an_image(client, province, notice):
    alice, _ = apps(province)
    response = client.post(
        object_url(notice, alice), {**OBJECTOR, "evidence": SimpleUploadedFile("x.pdf", b"MZ" + b"0" * 64)}
    )
    assert response.status_code == 422 and response.context["form"].errors["evidence"]
    assert not Objection.objects.exists()


def test_a_duplicate_and_a_flood_are_refused(client, province, notice):
    alice, bob = apps(province)
    client.post(object_url(notice, alice), OBJECTOR)
    again = client.post(object_url(notice, alice), OBJECTOR)
    assert again.status_code == 409 and "请勿重复提交" in again.content.decode()
    for n in range(4):
        client.post(
            object_url(notice, bob), {**OBJECTOR, "content": f"{OBJECTOR['content']}第{n}条补充情况说明。"}
        )
    assert Objection.objects.count() == 5
    flood = client.post(
        object_url(notice, bob), {**OBJECTOR, "content": OBJECTOR["content"] + "再补充一条。"}
    )
    assert flood.status_code == 429 and "提交过于频繁" in flood.content.decode()
    assert Objection.objects.count() == 5


def test_the_form_refuses_after_the_notice_ended(client, province, notice, clock):
    alice, _ = apps(province)
    clock.move_to(at(2025, 10, 13))
    page = client.get(object_url(notice, alice))
    body = page.content.decode()
    assert page.status_code == 200 and "公示已于2025年10月11日结束，不再受理异议" in body
    assert 'id="objection-form"' not in body
    response = client.post(object_url(notice, alice), OBJECTOR)
    assert response.status_code == 422 and "不再受理异议" in response.content.decode()
    assert not Objection.objects.exists()
    assert object_url(notice, alice) not in client.get(detail_url(notice)).content.decode()
    assert not AuditEvent.objects.filter(action="evaluation.objection.lodged").exists()


def test_a_candidate_removed_after_an_upheld_objection_takes_no_more(client, province, notice):
    alice, _ = apps(province)
    objection = notices.objection_lodge(application=alice, client="198.51.100.1", **OBJECTOR)
    notices.objection_answer(actor=province.office, objection=objection, outcome="upheld", answer="属实。")
    body = client.get(detail_url(notice)).content.decode()
    assert "经核实不予入选" in body and object_url(notice, alice) not in body
    response = client.post(object_url(notice, alice), {**OBJECTOR, "phone": "13900139000"})
    assert response.status_code == 422 and "已不在公示名单中" in response.content.decode()


def test_unknown_notices_and_non_candidates_are_not_found(client, province, notice):
    other = batch(sequence=4)
    stranger = application(province, other, who="alice")
    assert client.get(object_url(notice, stranger)).status_code == 404
    assert client.get(reverse("evaluation:public-notice-detail", args=[other.uuid])).status_code == 404


def test_looking_up_an_objection_by_its_number(client, province, notice):
    alice, _ = apps(province)
    objection = notices.objection_lodge(application=alice, client="198.51.100.1", **OBJECTOR)
    found = client.get(LOOKUP, {"number": objection.number.lower()})
    assert found.status_code == 302 and found["Location"] == status_url(objection.number)
    typo = objection.number[:-1] + ("0" if objection.number[-1] != "0" else "1")
    wrong = client.get(LOOKUP, {"number": typo})
    assert wrong.status_code == 422 and "校验位不符" in wrong.content.decode()
    unknown = numbering.with_check("YY2025999999")
    missing = client.get(LOOKUP, {"number": unknown})
    assert missing.status_code == 404 and "没有该编号的异议" in missing.content.decode()
    assert client.get(status_url(unknown)).status_code == 404
    assert client.get(status_url(objection.number.lower())).status_code == 302


def test_the_notice_pages_need_no_account_and_set_no_workspace_menu(client, notice):
    response = client.get(detail_url(notice))
    assert response.status_code == 200 and "工作台导航" not in response.content.decode()
    assert dt.date(2025, 10, 11) == notice.ends_on
