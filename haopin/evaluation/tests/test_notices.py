"""The public notice and its objections: the period in working days, who may object and when,
private contact details, answers, and what keeps a batch from being published."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from PIL import Image

from haopin.certificates.tests.factories import application, at, batch, ensure_calendar
from haopin.core import numbering
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent
from haopin.evaluation import notice_entries, notices
from haopin.evaluation.models import Application, Decision, Objection, PublicNotice
from haopin.notifications.models import Notification

A = Application.Status
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _calendar_and_cache(db):
    ensure_calendar()
    cache.clear()  # the lodging rate limit lives in the cache
    yield
    cache.clear()


@pytest.fixture
def clock():
    # Friday 26 September 2025, just before the National Day holidays.
    with time_machine.travel(at(2025, 9, 26), tick=False) as traveller:
        yield traveller


@pytest.fixture
def candidates(province):
    the_batch = batch()
    return (
        the_batch,
        application(province, the_batch, who="alice"),
        application(province, the_batch, who="bob"),
    )


@pytest.fixture
def notice(province, clock, candidates):
    return notices.notice_open(actor=province.office, batch=candidates[0])


def lodge(app, **values):
    values.setdefault("name", "张三")
    values.setdefault("phone", "13800138000")
    values.setdefault("content", "该企业近三年曾因产品抽检不合格被通报，与申报承诺不符。")
    values.setdefault("client", "203.0.113.7")
    return notices.objection_lodge(application=app, **values)


# --- opening and closing the notice --------------------------------------------------------------


def test_titles_count_batches_in_chinese():
    assert [notices.cn_numeral(n) for n in (1, 3, 10, 12, 20, 23)] == [
        "一",
        "三",
        "十",
        "十二",
        "二十",
        "二十三",
    ]


def test_opening_the_notice_lists_the_approved_candidates_for_seven_working_days(province, clock, candidates):
    the_batch, alice_app, bob_app = candidates
    returned = application(province, the_batch, who="alice", status=A.REJECTED)
    notice = notices.notice_open(actor=province.office, batch=the_batch)

    assert notice.title == "关于2025年第三批“好品山东”品牌拟入选名单的公示"
    # Friday 26 September is a working day; seven working days across National Day end on the
    # adjusted Saturday, 11 October.
    assert (notice.starts_on, notice.ends_on) == (dt.date(2025, 9, 26), dt.date(2025, 10, 11))
    assert "2025年9月26日至2025年10月11日（7个工作日）" in notice.body
    assert "共有2个品牌" in notice.body
    for app in (alice_app, bob_app):
        app.refresh_from_db()
        assert app.status == A.NOTICE
        decision = Decision.objects.get(application=app, action="open_notice")
        assert decision.actor == province.office and notice.title in decision.opinion
    returned.refresh_from_db()
    assert returned.status == A.REJECTED
    event = AuditEvent.objects.get(action="evaluation.notice.opened")
    assert event.new["candidates"] == [alice_app.number, bob_app.number]
    assert event.new["ends_on"] == "2025-10-11"
    assert Notification.objects.filter(user=province.alice, kind="evaluation.notice_opened").count() == 1
    assert Notification.objects.filter(user=province.bob, kind="evaluation.notice_opened").count() == 1


def test_a_notice_opened_on_a_holiday_starts_on_the_next_working_day(province, candidates):
    with time_machine.travel(at(2025, 10, 2), tick=False):
        notice = notices.notice_open(actor=province.office, batch=candidates[0])
    # 9, 10, 11 (adjusted Saturday), 13, 14, 15, 16 October.
    assert (notice.starts_on, notice.ends_on) == (dt.date(2025, 10, 9), dt.date(2025, 10, 16))


def test_the_batch_decides_the_length_and_a_start_date_can_be_chosen(province, clock, candidates):
    the_batch = candidates[0]
    the_batch.notice_days = 5
    the_batch.save()
    notice = notices.notice_open(actor=province.office, batch=the_batch, starts_on=dt.date(2025, 9, 29))
    # 29 and 30 September, 9 and 10 October and the adjusted Saturday 11 October.
    assert (notice.starts_on, notice.ends_on) == (dt.date(2025, 9, 29), dt.date(2025, 10, 11))


def test_a_start_on_a_holiday_or_in_the_past_is_refused(province, clock, candidates):
    with pytest.raises(ValidationFailed, match="不是工作日"):
        notices.notice_open(actor=province.office, batch=candidates[0], starts_on=dt.date(2025, 10, 1))
    with pytest.raises(ValidationFailed, match="不能早于今天"):
        notices.notice_open(actor=province.office, batch=candidates[0], starts_on=dt.date(2025, 9, 25))
    assert not PublicNotice.objects.exists()


@pytest.mark.parametrize("who", ["office_viewer", "admin", "city_jinan", "dept_agri", "alice"])
def test_only_the_office_opens_a_notice(province, clock, candidates, who):
    with pytest.raises(PermissionDeniedError):
        notices.notice_open(actor=getattr(province, who), batch=candidates[0])
    assert not PublicNotice.objects.exists()
    assert set(Application.objects.values_list("status", flat=True)) == {A.APPROVED}


def test_a_notice_is_opened_once_and_only_with_candidates(province, clock, candidates):
    notices.notice_open(actor=province.office, batch=candidates[0])
    with pytest.raises(ConflictError, match="已发布过公示"):
        notices.notice_open(actor=province.office, batch=candidates[0])
    empty = batch(sequence=4)
    with pytest.raises(ValidationFailed, match="没有审定通过"):
        notices.notice_open(actor=province.office, batch=empty)
    draft = batch(sequence=5, status="open")
    application(province, draft)
    with pytest.raises(ConflictError, match="不能发布公示"):
        notices.notice_open(actor=province.office, batch=draft)
    assert PublicNotice.objects.count() == 1


def test_closing_waits_for_the_end_and_happens_once(province, notice, clock):
    with pytest.raises(ValidationFailed, match="尚未结束"):
        notices.notice_close(notice=notice, today=dt.date(2025, 10, 11))
    assert notices.notice_close(notice=notice, today=dt.date(2025, 10, 12)) is True
    assert notices.notice_close(notice=notice, today=dt.date(2025, 10, 12)) is False
    notice.refresh_from_db()
    assert notice.status == PublicNotice.Status.CLOSED and notice.closed_at
    assert AuditEvent.objects.filter(action="evaluation.notice.closed").count() == 1
    assert Notification.objects.filter(user=province.office, kind="evaluation.notice_closed").count() == 1
    assert not Notification.objects.filter(
        user=province.office_viewer, kind="evaluation.notice_closed"
    ).exists()


def test_what_keeps_the_batch_from_being_published(province, notice, clock, candidates):
    the_batch, alice_app, _ = candidates
    assert notices.notice_unresolved(batch(sequence=9)) == ["尚未发布公示。"]
    assert notices.notice_unresolved(the_batch) == ["公示期至2025年10月11日，尚未结束。"]
    objection = lodge(alice_app)
    reasons = notices.notice_unresolved(the_batch, today=dt.date(2025, 10, 13))
    assert "公示期已于2025年10月11日届满" in reasons[0]
    assert reasons[1] == f"有1件异议尚未答复：{objection.number}。"
    notices.notice_close(notice=notice, today=dt.date(2025, 10, 13))
    notices.objection_answer(
        actor=province.office,
        objection=objection,
        outcome="dismissed",
        answer="经核查，通报涉及的是其他企业的同名产品。",
    )
    assert notices.notice_unresolved(the_batch, today=dt.date(2025, 10, 13)) == []


# --- lodging objections --------------------------------------------------------------------------


def test_anyone_lodges_an_objection_with_a_numbered_receipt(province, notice, candidates):
    _, alice_app, _ = candidates
    objection = lodge(alice_app, email="zhangsan@example.com", evidence=io.BytesIO(PDF))
    assert objection.number.startswith("YY2025") and numbering.is_valid(objection.number)
    assert objection.notice == notice and objection.status == Objection.Status.OPEN
    assert (
        objection.evidence.name.endswith(f"{objection.number}.pdf") and len(objection.evidence_sha256) == 64
    )
    event = AuditEvent.objects.get(action="evaluation.objection.lodged")
    assert event.actor_id is None and event.new["application"] == alice_app.number
    assert "13800138000" not in str(event.new) and "张三" not in str(event.new)
    note = Notification.objects.get(user=province.office, kind="evaluation.objection_lodged")
    assert objection.number in note.title and "13800138000" not in note.body
    assert not Notification.objects.filter(user=province.alice, kind="evaluation.objection_lodged").exists()


def test_images_are_accepted_as_evidence_and_other_files_refused(notice, candidates):
    _, alice_app, bob_app = candidates
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(png, format="PNG")
    png.seek(0)
    assert lodge(alice_app, evidence=png).evidence.name.endswith(".png")
    with pytest.raises(ValidationFailed, match="文件类型不符") as error:
        lodge(bob_app, evidence=io.BytesIO(b"MZ\x90\x00 not a document at all"))
    assert "file" in error.value.details
    assert Objection.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "  "}, "name"),
        ({"phone": ""}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-address"}, "email"),
        ({"content": "不好"}, "content"),
        ({"content": "很" * 5001}, "content"),
    ],
)
def test_bad_input_is_refused_next_to_the_field(notice, candidates, values, field):
    with pytest.raises(ValidationFailed) as error:
        lodge(candidates[1], **values)
    assert field in error.value.details
    assert not Objection.objects.exists()


def test_landlines_and_spaced_numbers_are_accepted(notice, candidates):
    objection = lodge(candidates[1], phone="0531-8888 6666")
    assert objection.phone == "0531-88886666"


def test_objections_are_refused_after_the_notice_has_ended(province, notice, candidates):
    _, alice_app, _ = candidates
    with time_machine.travel(at(2025, 10, 11, 23), tick=False):
        lodge(alice_app)  # the last day still counts
    with time_machine.travel(at(2025, 10, 12), tick=False):
        with pytest.raises(ValidationFailed, match="公示已于2025年10月11日结束"):
            lodge(alice_app, content="另一件异议：该企业的商标权属存在争议。")
        notices.notice_close(notice=notice)
        with pytest.raises(ValidationFailed, match="不再受理异议"):
            lodge(alice_app, content="另一件异议：该企业的商标权属存在争议。")
    assert Objection.objects.count() == 1


def test_only_candidates_of_an_open_notice_can_be_objected_to(province, clock, candidates):
    _, alice_app, _ = candidates
    with pytest.raises(ValidationFailed, match="不在公示期内"):
        lodge(alice_app)
    notices.notice_open(actor=province.office, batch=candidates[0])
    alice_app.status = A.REJECTED
    alice_app.save()
    with pytest.raises(ValidationFailed, match="已不在公示名单中"):
        lodge(alice_app)
    assert not Objection.objects.exists()


def test_a_duplicate_is_refused_but_a_new_point_is_taken(notice, candidates):
    _, alice_app, _ = candidates
    first = lodge(alice_app)
    with pytest.raises(ConflictError, match=first.number):
        lodge(
            alice_app,
            content="  该企业近三年曾因产品抽检不合格被通报，\n与申报承诺不符。 ",
            client="198.51.100.1",
        )
    lodge(alice_app, content="该企业的广告宣传存在夸大，曾被市场监管部门约谈。")
    lodge(alice_app, phone="13900139000")  # someone else, same point
    assert Objection.objects.count() == 3


def test_lodging_is_rate_limited_per_client_address(notice, candidates):
    _, alice_app, bob_app = candidates
    for n in range(notices.LODGE_LIMIT):
        lodge(alice_app, content=f"第{n + 1}件异议：该企业申报材料中的数据与年报不一致。")
    with pytest.raises(notices.RateLimited) as error:
        lodge(bob_app, content="再提一件：该企业申报材料中的数据与年报不一致。")
    assert error.value.status == 429
    lodge(bob_app, content="再提一件：该企业申报材料中的数据与年报不一致。", client="198.51.100.2")
    assert Objection.objects.count() == notices.LODGE_LIMIT + 1


# --- contact details stay private ----------------------------------------------------------------


def test_public_selectors_never_carry_contact_details(notice, candidates):
    _, alice_app, _ = candidates
    objection = lodge(alice_app, email="zhangsan@example.com", evidence=io.BytesIO(PDF))
    listed = notices.objections_public(notice)
    assert len(listed) == 1
    row = listed[0]
    assert {f.name for f in dataclasses.fields(row)} == {
        "number",
        "application_number",
        "brand",
        "enterprise",
        "status",
        "status_label",
    }
    text = repr(listed) + repr(notices.objection_public_get(objection.number.lower()))
    for private in ("张三", "13800138000", "zhangsan@example.com", "抽检不合格", objection.evidence_sha256):
        assert private not in text
    assert row.brand == "泉城" and row.status_label == "待调查"


def test_the_public_lookup_checks_the_check_character(notice, candidates):
    objection = lodge(candidates[1])
    typo = objection.number[:-1] + ("0" if objection.number[-1] != "0" else "1")
    with pytest.raises(ValidationFailed, match="校验位不符"):
        notices.objection_public_get(typo)
    with pytest.raises(NotFoundError):
        notices.objection_public_get(numbering.with_check("YY2025999999"))


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("office", True),
        ("office_viewer", True),
        ("admin", False),
        ("city_jinan", False),
        ("dept_agri", False),
        ("alice", False),
        ("expert", False),
    ],
)
def test_only_the_office_sees_who_objected(province, notice, candidates, who, sees):
    lodge(candidates[1])
    user = getattr(province, who)
    assert notices.can_see_contact(user) is sees
    assert notices.objections_for_user(user).exists() is sees
    assert notices.can_see_contact(None) is False


# --- answering objections ------------------------------------------------------------------------


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_a_dismissed_objection_keeps_the_candidate_and_tells_both_sides(
    province, notice, candidates, immediate_tasks, django_capture_on_commit_callbacks
):
    _, alice_app, _ = candidates
    objection = lodge(alice_app, email="zhangsan@example.com")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notices.objection_answer(
            actor=province.office,
            objection=objection,
            outcome="dismissed",
            answer="经核查，所述通报涉及其他企业。",
        )
    objection.refresh_from_db()
    alice_app.refresh_from_db()
    assert objection.status == Objection.Status.DISMISSED and objection.answered_by == province.office
    assert alice_app.status == A.NOTICE
    event = AuditEvent.objects.get(action="evaluation.objection.answered")
    assert event.new["status"] == "dismissed" and event.old == {"status": "open"}
    note = Notification.objects.get(user=province.alice, kind="evaluation.objection_answered")
    assert "异议不成立" in note.title and "所述通报涉及其他企业" in note.body
    assert "张三" not in note.body and "13800138000" not in note.body
    sent = [m for m in mail.outbox if m.to == ["zhangsan@example.com"]]
    assert len(sent) == 1 and objection.number in sent[0].subject and "异议不成立" in sent[0].body


def test_an_upheld_objection_removes_the_candidate(province, notice, candidates):
    _, alice_app, bob_app = candidates
    objection = lodge(alice_app)
    other = lodge(alice_app, phone="13900139000")
    notices.objection_answer(
        actor=province.office,
        objection=objection,
        outcome="upheld",
        answer="经核查，该企业2024年产品抽检不合格属实。",
    )
    alice_app.refresh_from_db()
    assert alice_app.status == A.REJECTED
    decision = Decision.objects.get(application=alice_app, action="reject")
    assert objection.number in decision.opinion and "抽检不合格属实" in decision.opinion
    assert AuditEvent.objects.filter(action="evaluation.application.moved", new__action="reject").count() == 1
    # A second objection about the same (already removed) candidate can still be answered.
    notices.objection_answer(actor=province.office, objection=other, outcome="upheld", answer="同上。")
    assert Decision.objects.filter(application=alice_app, action="reject").count() == 1
    bob_app.refresh_from_db()
    assert bob_app.status == A.NOTICE
    # The notice still lists the removed candidate, with its status.
    listed = {a.number: a.status for a in notices.notice_candidates(notice)}
    assert listed == {alice_app.number: A.REJECTED, bob_app.number: A.NOTICE}
    assert notices.objections_public(notice)[0].status_label == "异议成立"


def test_an_objection_is_answered_once_by_the_office_with_reasons(province, notice, candidates):
    objection = lodge(candidates[1])
    for who in ("office_viewer", "admin", "city_qingdao", "dept_agri", "bob"):
        with pytest.raises(PermissionDeniedError):
            notices.objection_answer(
                actor=getattr(province, who), objection=objection, outcome="upheld", answer="x"
            )
    with pytest.raises(ValidationFailed) as error:
        notices.objection_answer(actor=province.office, objection=objection, outcome="upheld", answer="  ")
    assert "answer" in error.value.details
    with pytest.raises(ValidationFailed):
        notices.objection_answer(actor=province.office, objection=objection, outcome="maybe", answer="理由")
    objection.refresh_from_db()
    assert (
        objection.status == Objection.Status.OPEN
        and not AuditEvent.objects.filter(action="evaluation.objection.answered").exists()
    )
    notices.objection_answer(
        actor=province.office, objection=objection, outcome="dismissed", answer="不属实。"
    )
    with pytest.raises(ConflictError, match="已答复"):
        notices.objection_answer(
            actor=province.office, objection=objection, outcome="upheld", answer="改判。"
        )
    objection.refresh_from_db()
    assert objection.status == Objection.Status.DISMISSED


def test_an_objection_cannot_be_upheld_after_publication(province, notice, candidates):
    _, alice_app, _ = candidates
    objection = lodge(alice_app)
    Application.objects.filter(pk=alice_app.pk).update(status=A.PUBLISHED)
    with pytest.raises(ConflictError, match="暂停或撤销证书"):
        notices.objection_answer(
            actor=province.office, objection=objection, outcome="upheld", answer="属实。"
        )
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN


def test_the_office_to_do_counts_objections_waiting_for_an_answer(province, notice, candidates):
    lodge(candidates[1])
    lodge(candidates[2])
    [item] = notice_entries.todo(province.office)
    assert item.count == 2 and "待答复" in item.label and item.url
    assert notice_entries.todo(province.office_viewer) == []
    assert notice_entries.todo(province.city_jinan) == []
