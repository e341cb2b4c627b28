"""The office's batch pages: the list and the batch (moves with clear refusals, rule sets, quotas,
counts linking to the application list), the expert draw per rule set (seed, exclusions,
shortfalls, replay check, supplementary draw), the panels' progress, the aggregation (refusal
naming the missing sheets), the ranking with its flags and the quota-tie decisions, the scoring
sheet and the exports; the batch's notice and the objections with their private details.

Outsiders get 404 (a draft batch, an objection) or 403 (the review pages of a visible batch);
read-only office members see but cannot act; bad input changes nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from openpyxl import load_workbook

from haopin.certificates.tests.factories import application as candidate
from haopin.certificates.tests.factories import at, ensure_calendar
from haopin.core.models import AuditEvent, Category
from haopin.evaluation import experts, notices, scoring, services
from haopin.evaluation.models import Application, Assignment, Batch, Objection, PanelDraw, Quota
from haopin.evaluation.tests.test_experts import applicant, enterprise, expert, food, pool, small_rule_set
from haopin.evaluation.tests.test_scoring import score_all
from haopin.evaluation.views.batches import batch_code

S = Application.Status
BATCHES = reverse("evaluation:batch-list")
OBJECTIONS = reverse("evaluation:objection-list")

__all__ = ["food"]  # the fixture, imported for this module's tests


def batch_url(name: str, batch, *extra) -> str:
    return reverse(f"evaluation:{name}", args=[batch.uuid, *[getattr(e, "uuid", e) for e in extra]])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def field_error(response, form_name: str, field: str) -> str:
    errors = response.context[form_name].errors.get(field)
    assert errors, (field, response.context[form_name].errors)
    return errors[0]


@pytest.fixture
def level2(province):
    """A published rule set for 食品饮料 (201), the level at which batches choose rule sets."""
    return small_rule_set(province.office, Category.objects.get(code="201"), province.product_type)


@pytest.fixture
def draft_batch(province):
    return services.batch_create(
        actor=province.office,
        year=2025,
        sequence=3,
        title="2025年第三批“好品山东”品牌评价",
        apply_from=dt.date(2025, 3, 1),
        apply_until=dt.date(2025, 4, 30),
    )


def drawn(province, food, *, apps=1, panel=3, reserve=0):
    food.batch.panel_size, food.batch.reserve_size = panel, reserve
    food.batch.save()
    pool(panel + reserve, categories=[province.cat_food])
    applications = [applicant(food.batch, food.rule_set, creator=province.office) for _ in range(apps)]
    draw = experts.draw_panels(
        actor=province.office, batch=food.batch, rule_set=food.rule_set, seed="2025-05-20"
    )
    return draw, applications


# --- the list ---------------------------------------------------------------------------------------


def test_office_sees_drafts_and_the_create_button_others_only_opened_batches(province, as_user, draft_batch):
    opened = Batch.objects.create(
        year=2024, sequence=1, title="2024年第一批", status=Batch.Status.CLOSED,
        apply_from=dt.date(2024, 3, 1), apply_until=dt.date(2024, 4, 30),
    )  # fmt: skip
    office = as_user(province.office).get(BATCHES)
    assert [r.obj for r in office.context["rows"]] == [draft_batch, opened]
    assert reverse("evaluation:batch-create") in office.content.decode()
    for user in (province.alice, province.city_jinan, province.office_viewer):
        response = as_user(user).get(BATCHES)
        expected = [draft_batch, opened] if user == province.office_viewer else [opened]
        assert [r.obj for r in response.context["rows"]] == expected
        assert reverse("evaluation:batch-create") not in response.content.decode()


def test_batch_list_query_count_does_not_grow(province, as_user, django_assert_max_num_queries):
    for sequence in range(1, 31):
        Batch.objects.create(
            year=2023, sequence=sequence, title=f"第{sequence}批", status=Batch.Status.CLOSED,
            apply_from=dt.date(2023, 3, 1), apply_until=dt.date(2023, 4, 30),
        )  # fmt: skip
    client = as_user(province.office)
    client.get(BATCHES)
    with django_assert_max_num_queries(8) as small:
        client.get(BATCHES + "?size=20")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(BATCHES + "?size=100")


# --- create and edit -------------------------------------------------------------------------------


def batch_data(**extra) -> dict:
    return {
        "year": 2026,
        "sequence": 1,
        "title": "2026年第一批“好品山东”品牌评价",
        "apply_from": "2026-03-01",
        "apply_until": "2026-04-30",
        "notice_days": 7,
        "panel_size": 7,
        "reserve_size": 2,
        "avoid_same_city": "on",
        "certificate_years": 3,
        **extra,
    }


def test_office_creates_a_batch(province, as_user):
    response = as_user(province.office).post(reverse("evaluation:batch-create"), batch_data())
    batch = Batch.objects.get()
    assert response.status_code == 302 and response["Location"] == batch.get_absolute_url()
    assert (batch.status, batch.panel_size, batch.avoid_same_city) == ("draft", 7, True)
    assert AuditEvent.objects.get(action="evaluation.batch.created").actor_id == province.office.pk


def test_bad_dates_and_a_taken_sequence_are_shown_next_to_the_fields(province, as_user, draft_batch):
    client = as_user(province.office)
    response = client.post(reverse("evaluation:batch-create"), batch_data(apply_until="2026-02-01"))
    assert response.status_code == 422 and "不能早于开始日期" in field_error(response, "form", "apply_until")
    response = client.post(reverse("evaluation:batch-create"), batch_data(year=2025, sequence=3))
    assert response.status_code == 422 and "2025年已有第3批" in field_error(response, "form", "sequence")
    response = client.post(reverse("evaluation:batch-create"), batch_data(reserve_size=7))
    assert response.status_code == 422 and "备选专家人数应少于" in field_error(
        response, "form", "reserve_size"
    )
    assert Batch.objects.count() == 1


def test_only_writing_office_members_create_batches(province, as_user):
    for user in (province.office_viewer, province.alice, province.city_jinan, province.admin):
        assert as_user(user).post(reverse("evaluation:batch-create"), batch_data()).status_code == 403
    assert not Batch.objects.exists()


def test_an_open_batch_changes_only_its_later_stages(province, as_user, level2, draft_batch):
    services.batch_rule_set_attach(actor=province.office, batch=draft_batch, rule_set=level2)
    services.batch_open(actor=province.office, batch=draft_batch)
    client = as_user(province.office)
    page = client.get(batch_url("batch-edit", draft_batch))
    assert (
        page.context["form"].fields["title"].disabled
        and not page.context["form"].fields["notice_days"].disabled
    )
    response = client.post(
        batch_url("batch-edit", draft_batch),
        batch_data(year=2025, sequence=3, title="改名", notice_days=10, recommend_until="2025-05-15"),
    )
    assert response.status_code == 302
    draft_batch.refresh_from_db()
    assert (draft_batch.title, draft_batch.notice_days) == ("2025年第三批“好品山东”品牌评价", 10)


# --- the batch's page and its moves ----------------------------------------------------------------


def test_a_draft_batch_is_invisible_to_outsiders(province, as_user, draft_batch):
    for user in (province.alice, province.city_jinan, province.expert):
        assert as_user(user).get(draft_batch.get_absolute_url()).status_code == 404
    assert as_user(province.office_viewer).get(draft_batch.get_absolute_url()).status_code == 200


def test_opening_is_refused_without_rule_sets_and_says_why(province, as_user, draft_batch):
    response = as_user(province.office).post(batch_url("batch-move", draft_batch, "open"), follow=True)
    assert "请先为批次选用至少一套评价细则。" in messages_of(response)
    draft_batch.refresh_from_db()
    assert draft_batch.status == "draft"


def test_the_office_attaches_a_rule_set_and_opens_the_batch(province, as_user, level2, draft_batch):
    client = as_user(province.office)
    page = client.get(draft_batch.get_absolute_url())
    assert "开始申报" in page.content.decode()
    choices = list(page.context["attach_form"].fields["rule_set"].queryset)
    assert choices == [level2]
    assert (
        client.post(batch_url("batch-rule-set-attach", draft_batch), {"rule_set": level2.pk}).status_code
        == 302
    )
    response = client.post(batch_url("batch-move", draft_batch, "open"), follow=True)
    draft_batch.refresh_from_db()
    assert draft_batch.status == "open" and any("开始申报" in m for m in messages_of(response))
    moved = AuditEvent.objects.get(action="evaluation.batch.moved")
    assert (moved.old, moved.new["status"]) == ({"status": "draft"}, "open")


def test_a_draft_rule_set_cannot_be_attached(province, as_user, draft_batch):
    from haopin.standards import services as standards_services

    draft = standards_services.ruleset_create(
        actor=province.office,
        category=Category.objects.get(code="202"),
        brand_type=province.product_type,
        title="草稿",
    )
    response = as_user(province.office).post(
        batch_url("batch-rule-set-attach", draft_batch), {"rule_set": draft.pk}
    )
    assert response.status_code == 422 and field_error(response, "attach_form", "rule_set")
    assert not draft_batch.rule_sets.exists()


def test_read_only_office_member_sees_no_buttons_and_cannot_move(province, as_user, level2, draft_batch):
    services.batch_rule_set_attach(actor=province.office, batch=draft_batch, rule_set=level2)
    client = as_user(province.office_viewer)
    page = client.get(draft_batch.get_absolute_url())
    assert page.context["moves"] == [] and page.context["attach_form"] is None
    assert batch_url("batch-move", draft_batch, "open") not in page.content.decode()
    assert client.post(batch_url("batch-move", draft_batch, "open")).status_code == 403
    assert (
        client.post(
            batch_url("batch-quota-set", draft_batch), {"category": level2.category_id, "limit": 3}
        ).status_code
        == 403
    )
    draft_batch.refresh_from_db()
    assert draft_batch.status == "draft" and not draft_batch.quotas.exists()


def test_publishing_the_notice_is_refused_naming_the_undecided_applications(province, as_user, food):
    undecided = applicant(food.batch, food.rule_set, creator=province.office, status=S.CONSULTED)
    applicant(food.batch, food.rule_set, creator=province.office, status=S.APPROVED)
    client = as_user(province.office)
    page = client.get(food.batch.get_absolute_url())
    assert page.context["undecided_count"] == 1 and undecided.number in page.content.decode()
    response = client.post(batch_url("batch-move", food.batch, "open_notice"), follow=True)
    (message,) = messages_of(response)
    assert "还有 1 项申报尚未作出决定" in message and undecided.number in message
    food.batch.refresh_from_db()
    assert food.batch.status == "reviewing"


def test_counts_per_status_link_to_the_filtered_application_list(province, as_user, food):
    applicant(food.batch, food.rule_set, creator=province.office, status=S.CHECKED)
    applicant(food.batch, food.rule_set, creator=province.office, status=S.CHECKED)
    applicant(food.batch, food.rule_set, creator=province.office, status=S.REJECTED)
    page = as_user(province.office).get(food.batch.get_absolute_url())
    counts = {row["status"]: (row["count"], row["url"]) for row in page.context["status_counts"]}
    code = batch_code(food.batch)
    assert counts == {
        S.CHECKED: (2, reverse("evaluation:application-list") + f"?batch={code}&status=checked"),
        S.REJECTED: (1, reverse("evaluation:application-list") + f"?batch={code}&status=rejected"),
    }
    assert page.context["total_count"] == 3
    rows = page.context["rule_sets"]
    assert [(r["total"], r["waiting"], r["in_review"]) for r in rows] == [(3, 2, 0)]


def test_others_see_an_opened_batch_without_the_office_s_parts(province, as_user, food):
    applicant(food.batch, food.rule_set, creator=province.office, status=S.CHECKED)
    page = as_user(province.alice).get(food.batch.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert page.context["status_counts"] == [] and page.context["history"] == []
    assert batch_url("batch-rule-set", food.batch, food.rule_set) not in body
    for name in ("batch-rule-set", "ranking"):
        assert as_user(province.alice).get(batch_url(name, food.batch, food.rule_set)).status_code == 403
    assert as_user(province.city_jinan).get(batch_url("ranking-export", food.batch)).status_code == 403


def test_quotas_are_set_and_removed_and_bad_ones_refused(province, as_user, draft_batch):
    client = as_user(province.office)
    category = Category.objects.get(code="201")
    bad = client.post(
        batch_url("batch-quota-set", draft_batch),
        {"category": category.pk, "city": province.jinan.pk, "limit": 3},
    )
    assert bad.status_code == 422 and "类别或城市之一" in field_error(bad, "quota_form", "category")
    zero = client.post(batch_url("batch-quota-set", draft_batch), {"category": category.pk, "limit": 0})
    assert zero.status_code == 422 and field_error(zero, "quota_form", "limit")
    assert not Quota.objects.exists()
    assert (
        client.post(
            batch_url("batch-quota-set", draft_batch), {"city": province.jinan.pk, "limit": 5}
        ).status_code
        == 302
    )
    quota = Quota.objects.get()
    assert (quota.city, quota.limit) == (province.jinan, 5)
    assert client.post(batch_url("batch-quota-remove", draft_batch, quota.pk)).status_code == 302
    assert not Quota.objects.exists()


# --- the draw ----------------------------------------------------------------------------------------


def test_the_office_draws_panels_with_a_seed_and_sees_the_record(province, as_user, food):
    food.batch.panel_size, food.batch.reserve_size = 3, 1
    food.batch.save()
    pool(4, categories=[province.cat_food])
    owner = enterprise()
    expert(categories=[province.cat_food], employer_uscc=owner.uscc)  # must be avoided
    application = applicant(food.batch, food.rule_set, owner, creator=province.office)
    client = as_user(province.office)
    page = client.get(batch_url("batch-rule-set", food.batch, food.rule_set))
    assert page.status_code == 200 and page.context["can_draw"] and page.context["waiting"] == 1
    response = client.post(batch_url("draw-panels", food.batch, food.rule_set), {"seed": "省彩票 2025-05-20"})
    draw = PanelDraw.objects.get()
    assert response.status_code == 302 and response["Location"] == batch_url("draw-detail", food.batch, draw)
    assert draw.seed == "省彩票 2025-05-20"
    application.refresh_from_db()
    assert application.status == S.EXPERT_REVIEW
    detail = client.get(response["Location"])
    body = detail.content.decode()
    assert "省彩票 2025-05-20" in body and "专家工作单位为申报单位" in body
    assert detail.context["exclusions"] == [("专家工作单位为申报单位", 1)]
    assert len(detail.context["seats"]) == 4
    check = client.get(response["Location"] + "?check=1")
    assert check.context["check"].result_matches and "抽取结果与记录完全一致" in check.content.decode()


def test_a_bad_seed_is_shown_next_to_the_field_and_nothing_is_drawn(province, as_user, food):
    pool(3, categories=[province.cat_food])
    applicant(food.batch, food.rule_set, creator=province.office)
    response = as_user(province.office).post(
        batch_url("draw-panels", food.batch, food.rule_set), {"seed": "种" * 65}
    )
    assert response.status_code == 422 and field_error(response, "draw_form", "seed")
    assert not PanelDraw.objects.exists() and not Assignment.objects.exists()


def test_read_only_office_member_sees_the_review_but_cannot_draw(province, as_user, food):
    pool(3, categories=[province.cat_food])
    applicant(food.batch, food.rule_set, creator=province.office)
    client = as_user(province.office_viewer)
    page = client.get(batch_url("batch-rule-set", food.batch, food.rule_set))
    assert page.status_code == 200 and not page.context["can_draw"] and "只读" in page.content.decode()
    assert client.post(batch_url("draw-panels", food.batch, food.rule_set), {"seed": ""}).status_code == 403
    assert not PanelDraw.objects.exists()


def test_a_shortfall_is_shown_and_filled_by_a_supplementary_draw(province, as_user, food):
    food.batch.panel_size, food.batch.reserve_size = 3, 0
    food.batch.save()
    pool(2, categories=[province.cat_food])
    application = applicant(food.batch, food.rule_set, creator=province.office)
    draw = experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    client = as_user(province.office)
    detail = client.get(batch_url("draw-detail", food.batch, draw))
    assert "评审专家 2/3 名" in detail.content.decode()
    page = client.get(batch_url("batch-rule-set", food.batch, food.rule_set))
    (row,) = page.context["rows"]
    assert row["needs_supplement"] and (row["application"].submitted, row["required"]) == (0, 3)
    pool(1, categories=[province.cat_food])
    response = client.post(batch_url("draw-supplement", food.batch, application), {"seed": "补抽"})
    supplement = PanelDraw.objects.exclude(pk=draw.pk).get()
    assert response.status_code == 302 and response["Location"] == batch_url(
        "draw-detail", food.batch, supplement
    )
    assert supplement.seed == "补抽" and supplement.panel_size == 1
    assert Assignment.objects.filter(application=application, role="panel").count() == 3
    refused = client.post(
        batch_url("draw-supplement", food.batch, application), {"seed": "再抽"}, follow=True
    )
    assert any("无需补充抽取" in m for m in messages_of(refused))
    assert PanelDraw.objects.count() == 2


# --- aggregation, ranking and the scoring sheet -------------------------------------------------------


def test_aggregation_is_refused_naming_the_missing_sheets(province, as_user, food):
    _, (one, two) = drawn(province, food, apps=2)
    score_all(one, [80, 82, 84])
    client = as_user(province.office)
    page = client.get(batch_url("batch-rule-set", food.batch, food.rule_set))
    assert [m[0] for m in page.context["missing"]] == [two.number] and "0/3" in page.content.decode()
    response = client.post(batch_url("batch-aggregate", food.batch, food.rule_set), follow=True)
    (message,) = messages_of(response)
    assert "尚未全部提交" in message and two.number in message and one.number not in message
    one.refresh_from_db()
    assert one.score_total is None and one.status == S.EXPERT_REVIEW


def test_aggregating_shows_the_ranking_with_ties_and_outliers(province, as_user, food):
    _, (first, second, third) = drawn(province, food, apps=3, panel=5)
    score_all(first, [90, 90, 90, 90, 60])  # one outlying sheet
    score_all(second, [70, 70, 70, 70, 70])
    score_all(third, [70, 70, 70, 70, 70])
    client = as_user(province.office)
    response = client.post(batch_url("batch-aggregate", food.batch, food.rule_set))
    assert response.status_code == 302 and response["Location"] == batch_url(
        "ranking", food.batch, food.rule_set
    )
    page = client.get(response["Location"])
    rows = {row["application"].number: row for row in page.context["rows"]}
    assert page.context["rows"][0]["application"].number == first.number
    assert rows[first.number]["outliers"] == 1 and not rows[first.number]["shared_rank"]
    assert rows[second.number]["shared_rank"] and rows[third.number]["shared_rank"]
    body = page.content.decode()
    assert "离群评分 1 份" in body and "并列" in body
    assert AuditEvent.objects.filter(action="evaluation.scores.aggregated").count() == 1


def test_the_ranking_page_query_count_does_not_grow(province, as_user, food, django_assert_max_num_queries):
    _, applications = drawn(province, food, apps=6)
    for application in applications:
        score_all(application, [80, 80, 80])
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    client = as_user(province.office)
    url = batch_url("ranking", food.batch, food.rule_set)
    client.get(url)
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    count = len(few.captured_queries)
    for _ in range(3):
        extra = applicant(food.batch, food.rule_set, creator=province.office, status=S.REVIEWED)
        Application.objects.filter(pk=extra.pk).update(score_total=70, rank=9, passed=True)
    assert len(client.get(url).context["rows"]) == 9
    with django_assert_max_num_queries(count):
        client.get(url)


def test_a_quota_tie_is_decided_with_reasons(province, as_user, food):
    Quota.objects.create(batch=food.batch, category=Category.objects.get(code="201"), limit=1)
    _, (tied_a, tied_b) = drawn(province, food, apps=2)
    score_all(tied_a, [85, 85, 85])
    score_all(tied_b, [80, 85, 90])
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    client = as_user(province.office)
    page = client.get(batch_url("ranking", food.batch, food.rule_set))
    forms = [row["form"] for row in page.context["rows"] if row["form"] is not None]
    assert len(forms) == 2 and "名额线同分裁定" in page.content.decode()
    url = batch_url("quota-decide", food.batch, tied_a)
    prefix = f"q{tied_a.pk}"
    missing = client.post(url, {f"{prefix}-admit": "yes", f"{prefix}-reason": ""})
    assert missing.status_code == 422
    tied_a.refresh_from_db()
    assert tied_a.within_quota is None
    assert (
        client.post(url, {f"{prefix}-admit": "yes", f"{prefix}-reason": "质量维度得分更高"}).status_code
        == 302
    )
    tied_a.refresh_from_db()
    assert tied_a.within_quota is True
    prefix = f"q{tied_b.pk}"
    full = client.post(
        batch_url("quota-decide", food.batch, tied_b), {f"{prefix}-admit": "yes", f"{prefix}-reason": "同分"}
    )
    assert full.status_code == 422 and "名额已满" in full.content.decode()
    assert AuditEvent.objects.filter(action="evaluation.quota.decided").count() == 1
    viewer = as_user(province.office_viewer)
    assert (
        viewer.post(
            batch_url("quota-decide", food.batch, tied_b), {f"{prefix}-admit": "no", f"{prefix}-reason": "x"}
        ).status_code
        == 403
    )


def test_scoring_sheet_and_exports(province, as_user, food):
    _, (application,) = drawn(province, food)
    score_all(application, [80, 84, 88])
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    client = as_user(province.office_viewer)
    page = client.get(batch_url("scoring-sheet", food.batch, application))
    assert page.status_code == 200
    assert str(page.context["sheet"].total) == "84.00" and "1.1 评语" in page.content.decode()
    sheet = client.get(batch_url("scoring-sheet", food.batch, application) + "?export=xlsx")
    assert sheet["Content-Type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(sheet.content)).sheetnames == ["评分表", "评审组"]
    ranking = client.get(batch_url("ranking", food.batch, food.rule_set) + "?export=xlsx")
    rows = list(load_workbook(io.BytesIO(ranking.content)).active.values)
    assert rows[1][0] == "排名" and rows[2][1] == application.number
    everything = client.get(batch_url("ranking-export", food.batch))
    assert everything.status_code == 200
    for user in (province.alice, province.city_jinan, province.dept_agri):
        assert as_user(user).get(batch_url("scoring-sheet", food.batch, application)).status_code == 403


def test_pages_of_one_batch_do_not_open_another_s_objects(province, as_user, food):
    draw, (application,) = drawn(province, food)
    other = Batch.objects.create(
        year=2025, sequence=99, title="另一批次", status=Batch.Status.REVIEWING,
        apply_from=dt.date(2025, 3, 1), apply_until=dt.date(2025, 4, 30),
    )  # fmt: skip
    client = as_user(province.office)
    assert client.get(batch_url("scoring-sheet", other, application)).status_code == 404
    assert client.get(batch_url("draw-detail", other, draw)).status_code == 404
    assert client.get(batch_url("batch-rule-set", other, food.rule_set)).status_code == 404


# --- the notice and objections -------------------------------------------------------------------------


@pytest.fixture
def on_notice(province):
    ensure_calendar()
    cache.clear()
    with time_machine.travel(at(2025, 9, 26), tick=False) as traveller:
        the_batch = Batch.objects.create(
            year=2025, sequence=3, title="2025年第三批“好品山东”品牌评价", status=Batch.Status.REVIEWING,
            apply_from=dt.date(2025, 3, 1), apply_until=dt.date(2025, 4, 30),
        )  # fmt: skip
        alice_app = candidate(province, the_batch, who="alice")
        bob_app = candidate(province, the_batch, who="bob")
        services.batch_open_notice(actor=province.office, batch=the_batch)
        objection = notices.objection_lodge(
            application=alice_app,
            name="张三",
            phone="13800138000",
            email="zhang@example.com",
            content="该企业近三年曾因产品抽检不合格被通报，与申报承诺不符。",
            client="203.0.113.7",
        )
        yield the_batch, alice_app, bob_app, objection, traveller
    cache.clear()


def test_the_office_sees_the_notice_and_what_keeps_the_batch_from_publishing(province, as_user, on_notice):
    the_batch, alice_app, bob_app, objection, _ = on_notice
    client = as_user(province.office)
    page = client.get(batch_url("batch-notice", the_batch))
    body = page.content.decode()
    assert page.status_code == 200 and alice_app.number in body and bob_app.number in body
    assert "1 件待答复" in body and any(objection.number in r for r in page.context["unresolved"])
    detail = client.get(the_batch.get_absolute_url())
    assert any("尚未结束" in r for r in detail.context["unresolved"])
    response = client.post(batch_url("batch-move", the_batch, "publish"), follow=True)
    assert any("公示尚未办结" in m for m in messages_of(response))
    assert as_user(province.alice).get(batch_url("batch-notice", the_batch)).status_code == 403


def test_only_the_office_sees_objections_with_contact_details(
    province, as_user, on_notice, django_assert_max_num_queries
):
    objection = on_notice[3]
    office = as_user(province.office)
    response = office.get(OBJECTIONS + "?status=open")
    assert [r.obj for r in response.context["rows"]] == [objection]
    assert "13800138000" in response.content.decode() and "张三" in response.content.decode()
    assert office.get(OBJECTIONS + "?status=upheld").context["rows"] == []
    detail = office.get(reverse("evaluation:objection-detail", args=[objection.uuid]))
    assert "zhang@example.com" in detail.content.decode() and detail.context["form"] is not None
    for user in (province.admin, province.city_jinan, province.alice, province.dept_agri):
        assert as_user(user).get(OBJECTIONS).status_code == 403
        assert (
            as_user(user).get(reverse("evaluation:objection-detail", args=[objection.uuid])).status_code
            == 404
        )
    office = as_user(province.office)  # the test client was signed in as the others above
    office.get(OBJECTIONS)
    with django_assert_max_num_queries(9) as few:
        office.get(OBJECTIONS)
    count = len(few.captured_queries)
    for n in range(12):
        Objection.objects.create(
            number=f"YYTEST{n:06d}",
            notice=objection.notice,
            application=objection.application,
            name=f"异议人{n}",
            phone="13900139000",
            content="同一品牌的另一件异议，用于核对列表的查询次数。",
        )
    assert len(office.get(OBJECTIONS + "?size=50").context["rows"]) == 13
    with django_assert_max_num_queries(count):
        office.get(OBJECTIONS + "?size=50")


def test_read_only_office_member_reads_objections_but_cannot_answer(province, as_user, on_notice):
    objection = on_notice[3]
    client = as_user(province.office_viewer)
    detail = client.get(reverse("evaluation:objection-detail", args=[objection.uuid]))
    assert detail.status_code == 200 and detail.context["form"] is None
    response = client.post(
        reverse("evaluation:objection-detail", args=[objection.uuid]),
        {"outcome": "dismissed", "answer": "不成立"},
    )
    assert response.status_code == 403
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN


def test_answering_an_objection(province, as_user, on_notice):
    _, alice_app, _, objection, _ = on_notice
    client = as_user(province.office)
    url = reverse("evaluation:objection-detail", args=[objection.uuid])
    empty = client.post(url, {"outcome": "upheld", "answer": ""})
    assert empty.status_code == 422 and empty.context["form"].errors["answer"]
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN
    response = client.post(url, {"outcome": "upheld", "answer": "经核查，该企业2024年抽检不合格属实。"})
    assert response.status_code == 302
    objection.refresh_from_db()
    alice_app.refresh_from_db()
    assert objection.status == Objection.Status.UPHELD and alice_app.status == S.REJECTED
    again = client.post(url, {"outcome": "dismissed", "answer": "改判"})
    assert again.status_code == 409 and "已答复" in again.content.decode()
    assert AuditEvent.objects.filter(action="evaluation.objection.answered").count() == 1


def test_objection_evidence_is_for_the_office_only(province, as_user, on_notice):
    objection = on_notice[3]
    url = reverse("evaluation:objection-evidence", args=[objection.uuid])
    assert as_user(province.office).get(url).status_code == 404  # none was given
    assert as_user(province.alice).get(url).status_code == 404
