"""Workspace pages of applications: who sees which list and page, starting and recommending,
the fill-in page (every form's bad input changes nothing), the moves each role is offered (exactly
those the review table allows), a lost race reported as such, the office's checks, and the query
counts of the list."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from haopin.core.models import AuditEvent, Category
from haopin.core.workflow import available
from haopin.evaluation import services
from haopin.evaluation.models import (
    Application,
    Assignment,
    CriterionCheck,
    Decision,
    Evidence,
    Figure,
    SelfAssessment,
    VetoFinding,
)
from haopin.evaluation.tests import test_applications as shared
from haopin.evaluation.tests.test_applications import (
    PDF,
    advance,
    assign_expert,
    audit_count,
    check_manual_criteria,
    fill_in,
)
from haopin.evaluation.tests.test_experts import applicant, expert
from haopin.evaluation.views.applications import NAV, nav_visible
from haopin.evaluation.workflow import APPLICATION_TRANSITIONS, MANUAL_ACTIONS
from haopin.registry.models import Brand

S = Application.Status

frozen_clock = shared.frozen_clock
rule_sets = shared.rule_sets
batch = shared.batch
alice_app = shared.alice_app
bob_app = shared.bob_app

LIST = reverse("evaluation:application-list")
HTMX = {"HX-Request": "true"}


def edit_url(application, section=""):
    url = reverse("evaluation:application-edit", args=[application.uuid])
    return url + (f"{section}/" if section else "")


def action_url(application, action):
    return reverse("evaluation:application-action", args=[application.uuid, action])


def numbers_on(response) -> set[str]:
    return set(re.findall(r"SQ2025\d{6}[0-9A-Z]", response.content.decode()))


def offered(response) -> set[str]:
    """The moves whose forms the application's page shows."""
    return set(re.findall(r'<details class="action[^"]*" id="action-([a-z_]+)"', response.content.decode()))


def expected_moves(application, user) -> set[str]:
    application.refresh_from_db()
    return {
        name for name, _ in available(APPLICATION_TRANSITIONS, application, user) if name in MANUAL_ACTIONS
    }


def to(application, status, province, recommender=None):
    return advance(
        application,
        status,
        owner=province.alice,
        recommender=recommender or province.city_jinan,
        office=province.office,
    )


def state(application):
    """What a refused form must leave untouched."""
    application.refresh_from_db()
    return (
        application.status,
        application.summary,
        application.competitors,
        application.national_rank,
        application.declaration_signed_at,
        Decision.objects.filter(application=application).count(),
        Figure.objects.filter(application=application).count(),
        SelfAssessment.objects.filter(application=application).count(),
        Evidence.objects.filter(application=application).count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def complete(province, alice_app):
    return fill_in(alice_app, province.alice)


# --- the list ----------------------------------------------------------------------------------


def test_each_role_lists_only_what_it_may_see(province, alice_app, bob_app, as_user):
    expected = {
        province.alice: {alice_app.number},
        province.alice_viewer: {alice_app.number},
        province.bob: {bob_app.number},
        province.city_jinan: {alice_app.number},
        province.county_lixia: {alice_app.number},
        province.city_qingdao: {bob_app.number},
        province.dept_agri: {bob_app.number},
        province.dept_commerce: set(),
        province.office: {alice_app.number, bob_app.number},
        province.office_viewer: {alice_app.number, bob_app.number},
        province.expert: set(),
    }
    for user, numbers in expected.items():
        response = as_user(user).get(LIST)
        assert response.status_code == 200
        assert numbers_on(response) == numbers, user.username


def test_an_expert_lists_an_application_only_after_declaring(province, complete, as_user):
    to(complete, S.EXPERT_REVIEW, province)
    seat = assign_expert(complete, province.expert, Assignment.Status.INVITED)
    assert numbers_on(as_user(province.expert).get(LIST)) == set()
    Assignment.objects.filter(pk=seat.pk).update(status=Assignment.Status.ACCEPTED)
    assert numbers_on(as_user(province.expert).get(LIST)) == {complete.number}


def test_the_list_filters_by_status_batch_category_city_and_route_and_searches(
    province, alice_app, bob_app, as_user
):
    client = as_user(province.office)
    services.application_update(actor=province.alice, application=alice_app, summary="x")
    cases = {
        "?status=draft": {alice_app.number, bob_app.number},
        "?status=submitted": set(),
        "?batch=2025-1": {alice_app.number, bob_app.number},
        "?batch=2024-9": {alice_app.number, bob_app.number},  # not a choice: ignored
        "?category=201": {alice_app.number},
        "?category=105": {bob_app.number},
        "?city=370200": {bob_app.number},
        "?route=recommended": set(),
        f"?q={alice_app.number}": {alice_app.number},
        "?q=崂山": {bob_app.number},
        "?q=泉城食品": {alice_app.number},
    }
    for query, numbers in cases.items():
        assert numbers_on(client.get(LIST + query)) == numbers, query


def test_the_to_do_link_filters_by_status(province, complete, as_user):
    services.application_submit(actor=province.alice, application=complete)
    response = as_user(province.city_jinan).get(LIST + "?status=submitted")
    assert numbers_on(response) == {complete.number}
    assert "待推荐" in response.content.decode()


def test_the_list_exports_what_it_shows(province, alice_app, bob_app, as_user):
    response = as_user(province.city_qingdao).get(LIST + "?export=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("申报编号", "品牌", "申报主体")
    assert [row[0] for row in rows[1:]] == [bob_app.number]
    assert rows[1][5] == "青岛市"


def test_actions_above_the_list_follow_the_role(province, batch, as_user):
    start = reverse("evaluation:application-start")
    recommend = reverse("evaluation:application-recommend")
    for user, wanted in [
        (province.alice, {start}),
        (province.alice_viewer, set()),
        (province.city_jinan, {recommend}),
        (province.dept_agri, {recommend}),
        (province.office, set()),
    ]:
        html = as_user(user).get(LIST).content.decode()
        assert {url for url in (start, recommend) if f'href="{url}"' in html} == wanted, user.username


def test_list_queries_do_not_grow_with_the_page(province, batch, rule_sets, as_user):
    client = as_user(province.office)

    def count(n):
        while Application.objects.count() < n:
            applicant(batch, rule_sets.food, creator=province.office)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST + "?size=100")
        assert response.status_code == 200
        assert len(numbers_on(response)) == n
        return len(queries)

    small, large = count(3), count(30)
    # Session and user, the user's scope, the filters' choices (batches, categories), the count
    # and the page's rows with what they show joined in, the menu's expert check.
    assert small == large <= 11


def test_the_menu_entry_is_for_members_of_an_organisation(province):
    (item,) = NAV
    assert item.url_name == "evaluation:application-list" and item.group == "评价管理"
    assert nav_visible(province.alice) and nav_visible(province.city_jinan) and nav_visible(province.office)
    assert not nav_visible(province.expert) and not nav_visible(province.carol)


# --- who sees an application's page ---------------------------------------------------------------


def test_each_role_sees_the_page_or_gets_404(province, alice_app, bob_app, as_user):
    for user, app, status in [
        (province.alice, alice_app, 200),
        (province.alice_viewer, alice_app, 200),
        (province.bob, alice_app, 404),
        (province.city_jinan, alice_app, 200),
        (province.city_qingdao, alice_app, 404),
        (province.city_qingdao, bob_app, 200),
        (province.dept_agri, alice_app, 404),
        (province.dept_agri, bob_app, 200),
        (province.office, alice_app, 200),
        (province.office_viewer, bob_app, 200),
        (province.expert, alice_app, 404),
        (province.carol, alice_app, 404),
    ]:
        response = as_user(user).get(app.get_absolute_url())
        assert response.status_code == status, (user.username, app.number)


def test_an_expert_sees_the_page_only_after_declaring_and_another_never(province, complete, as_user):
    to(complete, S.EXPERT_REVIEW, province)
    seat = assign_expert(complete, province.expert, Assignment.Status.INVITED)
    other = expert("370100", categories=[province.cat_food])
    url = complete.get_absolute_url()
    assert as_user(province.expert).get(url).status_code == 404
    Assignment.objects.filter(pk=seat.pk).update(status=Assignment.Status.ACCEPTED)
    response = as_user(province.expert).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "本地传统名品" in html and "我的评审任务" in html
    assert offered(response) == set()
    assert "变更记录" not in html  # the audit history is the office's
    assert as_user(other.user).get(url).status_code == 404


def test_the_page_shows_the_rule_set_figures_self_assessment_and_declaration(province, complete, as_user):
    html = as_user(province.alice).get(complete.get_absolute_url()).content.decode()
    assert complete.rule_set.title in html and f"第 {complete.rule_set.version} 版" in html
    assert "5,000.00" in html and "5.00%" in html  # revenue and the R&D ratio
    assert "泉城酥锅" in html
    assert "李明" in html and "签署" in html
    leaves = complete.rule_set.indicators.filter(parent__isnull=False).count()
    assert f"自评（{leaves}/{leaves} 项）" in html
    # Eligibility: automatic outcomes with their explanation, the manual one still open.
    assert "上年度营业收入（万元） 5000.00，要求 ≥ 2000" in html
    assert "人工审查" in html


# --- the moves offered match the policy ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "users"),
    [
        (S.DRAFT, ["alice", "alice_viewer", "city_jinan", "office", "office_viewer", "admin"]),
        (S.SUBMITTED, ["alice", "city_jinan", "county_lixia", "city_qingdao", "office", "dept_agri"]),
        (S.RECOMMENDED, ["alice", "city_jinan", "office", "office_viewer", "admin"]),
        (S.QUALIFIED, ["alice", "office", "office_viewer"]),
        (S.REVIEWED, ["alice", "office"]),
    ],
)
def test_the_buttons_are_exactly_the_moves_the_policy_allows(province, complete, as_user, status, users):
    if status != S.DRAFT:
        to(complete, status, province)
    for name in users:
        user = getattr(province, name)
        response = as_user(user).get(complete.get_absolute_url())
        if response.status_code == 404:
            assert name in {"city_qingdao", "dept_agri"}
            continue
        assert offered(response) == expected_moves(complete, user), name
    if status == S.SUBMITTED:
        assert offered(as_user(province.city_jinan).get(complete.get_absolute_url())) == {
            "recommend",
            "return",
            "reject",
        }
    if status == S.RECOMMENDED:
        assert offered(as_user(province.office).get(complete.get_absolute_url())) == {
            "qualify",
            "return",
            "reject",
        }
        assert offered(as_user(province.office_viewer).get(complete.get_absolute_url())) == set()


def test_the_applicant_is_offered_submit_and_withdraw_on_a_draft(province, alice_app, as_user):
    response = as_user(province.alice).get(alice_app.get_absolute_url())
    assert offered(response) == {"submit", "withdraw"}
    assert offered(as_user(province.alice_viewer).get(alice_app.get_absolute_url())) == set()


# --- taking a move -----------------------------------------------------------------------------------


def test_the_city_bureau_recommends_with_an_opinion(province, complete, as_user):
    services.application_submit(actor=province.alice, application=complete)
    response = as_user(province.city_jinan).post(
        action_url(complete, "recommend"),
        {"recommend-expected_status": "submitted", "recommend-opinion": "材料真实，同意推荐。"},
    )
    assert response.status_code == 302 and response.url == complete.get_absolute_url()
    complete.refresh_from_db()
    assert complete.status == S.RECOMMENDED
    decision = Decision.objects.get(application=complete, action="recommend")
    assert decision.actor == province.city_jinan and decision.opinion == "材料真实，同意推荐。"
    event = AuditEvent.objects.filter(action="evaluation.application.moved").order_by("seq").last()
    assert event.new["action"] == "recommend" and event.target_id == str(complete.pk)
    html = as_user(province.alice).get(complete.get_absolute_url()).content.decode()
    assert "材料真实，同意推荐。" in html and "济南市市场监督管理局" in html


def test_a_move_without_its_needed_fields_is_refused_and_changes_nothing(province, complete, as_user):
    services.application_submit(actor=province.alice, application=complete)
    client = as_user(province.city_jinan)
    before = state(complete)
    for action, data, message in [
        ("recommend", {}, "必须填写意见"),
        ("return", {"return-opinion": "请补充材料"}, "请填写整改期限"),
        ("return", {"return-opinion": "请补充材料", "return-deadline": "2025-05-13"}, "整改期限须晚于今天"),
        ("return", {"return-opinion": "请补充材料", "return-deadline": "明天"}, "请填写有效日期"),
        ("reject", {"reject-opinion": "  "}, "必须填写意见"),
    ]:
        payload = {f"{action}-expected_status": "submitted", **data}
        response = client.post(action_url(complete, action), payload)
        assert response.status_code == 422, (action, data)
        html = response.content.decode()
        assert message in html, (action, data)
        assert f'id="action-{action}" open' in html  # the form is shown open with its errors
        assert state(complete) == before


def test_a_return_shows_the_opinion_and_deadline_prominently(province, complete, as_user):
    services.application_submit(actor=province.alice, application=complete)
    response = as_user(province.city_jinan).post(
        action_url(complete, "return"),
        {
            "return-expected_status": "submitted",
            "return-opinion": "请补充近三年的质量检测报告。",
            "return-deadline": "2025-06-20",
            "return-document": SimpleUploadedFile("退回意见.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    complete.refresh_from_db()
    assert complete.status == S.RETURNED and complete.return_deadline == dt.date(2025, 6, 20)
    decision = Decision.objects.get(application=complete, action="return")
    assert decision.document is not None and decision.document.original_name == "退回意见.pdf"
    html = as_user(province.alice).get(complete.get_absolute_url()).content.decode()
    callout = html[html.index('id="returned"') :]
    assert "2025年6月20日" in callout[:600] and "请补充近三年的质量检测报告。" in callout[:600]
    document_url = reverse("evaluation:application-document", args=[complete.uuid, decision.document.uuid])
    assert document_url in html
    assert as_user(province.alice).get(document_url).status_code == 200
    assert as_user(province.bob).get(document_url).status_code == 404
    edit = as_user(province.alice).get(edit_url(complete)).content.decode()
    assert "2025年6月20日" in edit and "请补充近三年的质量检测报告。" in edit


def test_a_lost_race_says_someone_else_handled_it(province, complete, as_user):
    to(complete, S.RECOMMENDED, province)
    # Another office member qualified it after this page was shown with "待资格审查".
    check_manual_criteria(complete, province.office)
    services.application_move(application=complete, action="qualify", actor=province.office, opinion="符合")
    before = state(complete)
    response = as_user(province.office).post(
        action_url(complete, "return"),
        {
            "return-expected_status": "recommended",
            "return-opinion": "请补充",
            "return-deadline": "2025-06-20",
            "return-document": SimpleUploadedFile("依据.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "已被他人处理" in html and "待舆情与信用核查" in html
    assert state(complete) == before
    # The page shown is the current one, with the moves possible now.
    assert offered(response) == {"check", "return", "reject"}


def test_an_incomplete_submission_names_the_gaps(province, alice_app, as_user):
    before = state(alice_app)
    response = as_user(province.alice).post(
        action_url(alice_app, "submit"), {"submit-expected_status": "draft"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "申报材料尚不完整" in html and "请签署申报材料真实性承诺" in html
    assert state(alice_app) == before


def test_moves_by_those_who_may_not_make_them_are_refused(province, complete, as_user):
    url = action_url(complete, "submit")
    payload = {"submit-expected_status": "draft"}
    assert as_user(province.alice_viewer).post(url, payload).status_code == 403
    assert as_user(province.bob).post(url, payload).status_code == 404
    assert as_user(province.city_jinan).post(url, payload).status_code == 403
    assert as_user(province.alice).post(action_url(complete, "promote"), payload).status_code == 404
    assert as_user(province.alice).post(action_url(complete, "start_review"), payload).status_code == 404
    assert as_user(province.alice).get(url).status_code == 405
    complete.refresh_from_db()
    assert complete.status == S.DRAFT and not Decision.objects.filter(application=complete).exists()


def test_a_form_without_the_status_seen_is_refused(province, complete, as_user):
    response = as_user(province.alice).post(action_url(complete, "submit"), {})
    assert response.status_code == 422
    assert "请刷新页面" in response.content.decode()
    complete.refresh_from_db()
    assert complete.status == S.DRAFT


def test_withdrawing_is_the_applicants_own_decision(province, alice_app, as_user):
    response = as_user(province.alice).post(
        action_url(alice_app, "withdraw"),
        {"withdraw-expected_status": "draft", "withdraw-opinion": "本年度暂不申报。"},
    )
    assert response.status_code == 302
    alice_app.refresh_from_db()
    assert alice_app.status == S.WITHDRAWN
    html = as_user(province.alice).get(alice_app.get_absolute_url()).content.decode()
    assert "申报已撤回" in html and "本年度暂不申报。" in html
    assert offered(as_user(province.alice).get(alice_app.get_absolute_url())) == set()


def test_inline_check_of_a_move_saves_nothing(province, complete, as_user):
    services.application_submit(actor=province.alice, application=complete)
    before = state(complete)
    response = as_user(province.city_jinan).post(
        action_url(complete, "return"),
        {"return-expected_status": "submitted", "return-opinion": "补充", "return-deadline": "2025-05-01"},
        headers={**HTMX, "HX-Trigger-Name": "return-deadline"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="field-return-deadline"' in html and "整改期限须晚于今天" in html
    assert state(complete) == before


# --- starting an application and recommending a brand -----------------------------------------------


def test_an_enterprise_starts_an_application_for_its_brand(province, batch, rule_sets, as_user):
    client = as_user(province.alice)
    page = client.get(reverse("evaluation:application-start")).content.decode()
    assert "泉城" in page and "崂山绿茶" not in page and batch.title in page
    response = client.post(
        reverse("evaluation:application-start"), {"brand": province.alice_brand.pk, "batch": batch.pk}
    )
    application = Application.objects.get()
    assert response.status_code == 302 and response.url == edit_url(application)
    assert application.brand == province.alice_brand and application.rule_set == rule_sets.food
    assert audit_count("evaluation.application.created") == 1


def test_starting_with_bad_input_creates_nothing(province, batch, alice_app, as_user):
    client = as_user(province.alice)
    url = reverse("evaluation:application-start")
    trade = Brand.objects.create(
        name="泉城老号",
        owner=province.alice_ent,
        brand_type=province.product_type,
        category=Category.objects.get(code="30202"),
        region=province.lixia,
        tier=province.pool,
    )
    for data, status, message in [
        ({"brand": province.bob_brand.pk, "batch": batch.pk}, 422, "选择一个有效的选项"),
        ({"batch": batch.pk}, 422, "请填写此项"),
        ({"brand": trade.pk, "batch": batch.pk}, 422, "本批次未设置“商贸服务·产品品牌”的评价细则"),
        ({"brand": province.alice_brand.pk, "batch": batch.pk}, 409, "在本批次已有申报"),
    ]:
        response = client.post(url, data)
        assert response.status_code == status, data
        assert message in response.content.decode(), data
    assert Application.objects.count() == 1


def test_only_writing_members_of_enterprises_start_applications(province, batch, as_user):
    url = reverse("evaluation:application-start")
    for user in (province.alice_viewer, province.city_jinan, province.office, province.expert):
        assert as_user(user).get(url).status_code == 403, user.username


def test_inline_check_when_starting_names_the_brand_problem(province, batch, as_user):
    trade = Brand.objects.create(
        name="泉城老号",
        owner=province.alice_ent,
        brand_type=province.product_type,
        category=Category.objects.get(code="30202"),
        region=province.lixia,
        tier=province.pool,
    )
    response = as_user(province.alice).post(
        reverse("evaluation:application-start"),
        {"brand": trade.pk, "batch": batch.pk},
        headers={**HTMX, "HX-Trigger-Name": "brand"},
    )
    assert response.status_code == 200
    assert 'id="field-brand"' in response.content.decode()
    assert "本批次未设置" in response.content.decode()
    assert not Application.objects.exists()


def test_the_city_bureau_finds_and_recommends_a_brand_of_its_region(province, batch, as_user):
    client = as_user(province.city_jinan)
    search = reverse("evaluation:application-recommend")
    assert "泉城" in client.get(search + "?q=泉城").content.decode()
    by_code = client.get(search + f"?q={province.alice_ent.uscc}").content.decode()
    assert "泉城食品有限公司" in by_code
    assert "崂山绿茶" not in client.get(search + "?q=崂山").content.decode()
    url = reverse("evaluation:application-recommend-brand", args=[province.alice_brand.uuid])
    response = client.post(url, {"batch": batch.pk, "summary": "历下区老字号企业。"})
    application = Application.objects.get()
    assert response.status_code == 302 and response.url == application.get_absolute_url()
    assert (
        application.route == Application.Route.RECOMMENDED and application.recommender == province.jinan_org
    )
    assert application.summary == "历下区老字号企业。"
    # The owner completes it: the page says who recommended it and offers the fill-in page.
    html = as_user(province.alice).get(application.get_absolute_url()).content.decode()
    assert "济南市市场监督管理局推荐了本品牌" in html and edit_url(application) in html


def test_recommending_outside_the_scope_or_with_bad_input_is_refused(province, batch, as_user):
    url = reverse("evaluation:application-recommend-brand", args=[province.alice_brand.uuid])
    assert as_user(province.city_qingdao).get(url).status_code == 404
    assert as_user(province.dept_agri).get(url).status_code == 404
    assert as_user(province.alice).get(url).status_code == 403
    assert as_user(province.alice).get(reverse("evaluation:application-recommend")).status_code == 403
    response = as_user(province.city_jinan).post(url, {"batch": ""})
    assert response.status_code == 422 and "请填写此项" in response.content.decode()
    assert not Application.objects.exists()
    tea = reverse("evaluation:application-recommend-brand", args=[province.bob_brand.uuid])
    assert as_user(province.dept_agri).post(tea, {"batch": batch.pk}).status_code == 302
    assert Application.objects.get().recommender == province.agri_org


# --- filling in -----------------------------------------------------------------------------------------


def test_only_the_applicants_writing_members_open_the_fill_in_page(province, alice_app, as_user):
    url = edit_url(alice_app)
    assert as_user(province.alice).get(url).status_code == 200
    assert as_user(province.alice_viewer).get(url).status_code == 403
    assert as_user(province.city_jinan).get(url).status_code == 403
    assert as_user(province.bob).get(url).status_code == 404
    assert as_user(province.office).get(url).status_code == 403


def test_a_submitted_application_cannot_be_filled_in(province, complete, as_user):
    services.application_submit(actor=province.alice, application=complete)
    before = state(complete)
    assert as_user(province.alice).get(edit_url(complete)).status_code == 409
    response = as_user(province.alice).post(edit_url(complete, "details"), {"summary": "新的简介"})
    assert response.status_code == 409
    assert state(complete) == before


def test_the_checklist_shrinks_as_sections_are_saved(province, alice_app, as_user):
    client = as_user(province.alice)

    def gaps():
        html = client.get(edit_url(alice_app)).content.decode()
        checklist = html[html.index('id="checklist"') : html.index('class="section-nav"')]
        return checklist.count('<li class="">')

    assert gaps() == 5
    response = client.post(
        edit_url(alice_app, "details"),
        {
            "summary": "济南传统名品。",
            "products": [province.alice_product.pk],
            "competitors": province.bob_ent.uscc,
            "national_rank": "12",
            "provincial_rank": "3",
            "credit_clean": "yes",
            "inspection_clean": "yes",
        },
    )
    assert response.status_code == 302 and response.url.endswith("#details")
    alice_app.refresh_from_db()
    assert alice_app.competitors == [province.bob_ent.uscc] and alice_app.credit_clean is True
    assert gaps() == 3
    figures = {}
    for year in (2022, 2023, 2024):
        for name, value in [("revenue", "5000"), ("profit", "-20.5"), ("tax", "250"), ("rd_spend", "250")]:
            figures[f"f_{year}_{name}"] = value
        figures[f"f_{year}_employees"] = "320"
    assert client.post(edit_url(alice_app, "figures"), figures).status_code == 302
    assert Figure.objects.get(application=alice_app, year=2023).profit == -20.5
    assert Figure.objects.get(application=alice_app, year=2024).export == 0
    assert gaps() == 2
    scores = {
        f"score_{i.code.replace('.', '_')}": str(i.max_score)
        for i in alice_app.rule_set.indicators.filter(parent__isnull=False)
    }
    assert client.post(edit_url(alice_app, "self-assessment"), scores).status_code == 302
    assert gaps() == 1
    assert (
        client.post(edit_url(alice_app, "declaration"), {"name": "李明", "confirm": "on"}).status_code == 302
    )
    assert gaps() == 0
    html = client.get(edit_url(alice_app)).content.decode()
    assert action_url(alice_app, "submit") in html


def test_bad_details_change_nothing(province, alice_app, as_user):
    client = as_user(province.alice)
    before = state(alice_app)
    for data, message in [
        ({"competitors": "91370000ABCDEFGHIJ"}, "第 1 个竞争对手"),
        ({"competitors": province.alice_ent.uscc}, "不能填写本单位"),
        ({"products": [province.bob_product.pk]}, "选择一个有效的选项"),
        ({"national_rank": "0"}, "排名须为正整数"),
        ({"provincial_rank": "三"}, "排名须为正整数"),
        ({"credit_clean": "maybe"}, "选择一个有效的选项"),
    ]:
        response = client.post(edit_url(alice_app, "details"), {"summary": "改了", **data})
        assert response.status_code == 422, data
        assert message in response.content.decode(), data
        assert state(alice_app) == before


def test_bad_figures_change_nothing(province, alice_app, as_user):
    client = as_user(province.alice)
    before = state(alice_app)
    row = {"f_2024_revenue": "5000", "f_2024_profit": "1", "f_2024_tax": "1", "f_2024_rd_spend": "1"}
    for data, message in [
        ({**row}, "请填写2024年的从业人数"),
        ({**row, "f_2024_employees": "10", "f_2024_revenue": "-1"}, "不能为负数"),
        ({**row, "f_2024_employees": "10", "f_2024_tax": "1.234"}, "最多保留两位小数"),
        ({**row, "f_2024_employees": "3.5"}, "请填写整数"),
        ({**row, "f_2024_employees": "10", "f_2024_revenue": "abc"}, "请填写数字"),
    ]:
        response = client.post(edit_url(alice_app, "figures"), data)
        assert response.status_code == 422, data
        assert message in response.content.decode(), data
        assert state(alice_app) == before


def test_bad_self_assessment_changes_nothing(province, alice_app, as_user):
    client = as_user(province.alice)
    services.application_set_self_assessment(actor=province.alice, application=alice_app, scores={"1.1": "8"})
    before = state(alice_app)
    for data, message in [
        ({"score_1_1": "10.5"}, "自评分应在 0 至 10 之间"),
        ({"score_1_1": "-1"}, "自评分应在 0 至 10 之间"),
        ({"score_1_1": "5.25"}, "最多保留一位小数"),
        ({"score_1_1": ""}, "已填写的自评分不能清空"),
        ({"score_1_1": "8", "note_1_2": "有说明没分数"}, "请填写自评分"),
    ]:
        response = client.post(edit_url(alice_app, "self-assessment"), data)
        assert response.status_code == 422, data
        assert message in response.content.decode(), data
        assert state(alice_app) == before
    page = client.get(edit_url(alice_app)).content.decode()
    assert "建立并有效运行质量管理体系" in page  # the indicator's guidance is shown


def test_evidence_is_uploaded_read_and_removed(province, complete, as_user):
    client = as_user(province.alice)
    signed = state(complete)[4]
    assert signed is not None
    response = client.post(
        edit_url(complete, "evidence"),
        {"file": SimpleUploadedFile("检测报告.pdf", PDF), "title": "", "indicator": ""},
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get(application=complete)
    assert evidence.title == "检测报告.pdf"
    complete.refresh_from_db()
    assert complete.declaration_signed_at is None  # any later edit clears the declaration
    url = reverse("evaluation:application-document", args=[complete.uuid, evidence.document.uuid])
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    assert as_user(province.city_jinan).get(url).status_code == 200
    assert as_user(province.bob).get(url).status_code == 404
    other = reverse("evaluation:application-document", args=[complete.uuid, complete.uuid])
    assert as_user(province.alice).get(other).status_code == 404
    remove = reverse("evaluation:application-evidence-remove", args=[complete.uuid, evidence.pk])
    assert as_user(province.alice_viewer).post(remove).status_code == 403
    assert as_user(province.alice).post(remove).status_code == 302
    assert not Evidence.objects.filter(application=complete).exists()
    assert audit_count("evaluation.application.evidence_removed") == 1


def test_bad_evidence_changes_nothing(province, alice_app, as_user):
    client = as_user(province.alice)
    before = state(alice_app)
    for data, message in [
        ({"file": SimpleUploadedFile("notes.pdf", b"just text, not a PDF")}, "只接受 PDF"),
        ({"title": "没有文件"}, "请选择要上传的文件"),
        ({"file": SimpleUploadedFile("empty.pdf", b"")}, "上传的文件是空文件"),
    ]:
        response = client.post(edit_url(alice_app, "evidence"), data)
        assert response.status_code == 422, data
        assert message in response.content.decode(), data
        assert state(alice_app) == before


def test_the_declaration_needs_a_name_and_the_confirmation(province, alice_app, as_user):
    client = as_user(province.alice)
    before = state(alice_app)
    for data, message in [({"name": "李明"}, "请勾选承诺"), ({"confirm": "on", "name": "  "}, "请填写此项")]:
        response = client.post(edit_url(alice_app, "declaration"), data)
        assert response.status_code == 422 and message in response.content.decode()
        assert state(alice_app) == before
    html = client.get(edit_url(alice_app)).content.decode()
    assert "承诺将自动失效" in html
    assert (
        client.post(edit_url(alice_app, "declaration"), {"name": "李明", "confirm": "on"}).status_code == 302
    )
    alice_app.refresh_from_db()
    assert alice_app.declaration_signed_by == "李明"
    assert audit_count("evaluation.application.declaration_signed") == 1


def test_inline_checks_answer_with_the_field_and_save_nothing(province, alice_app, as_user):
    client = as_user(province.alice)
    before = state(alice_app)
    response = client.post(
        edit_url(alice_app, "details"),
        {"summary": "新简介", "competitors": "91370000ABCDEFGHIJ"},
        headers={**HTMX, "HX-Trigger-Name": "competitors"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="field invalid') and 'id="field-competitors"' in html
    assert "第 1 个竞争对手" in html and 'hx-preserve="true"' in html
    response = client.post(
        edit_url(alice_app, "details"),
        {"summary": "新简介"},
        headers={**HTMX, "HX-Trigger-Name": "summary"},
    )
    assert response.status_code == 200 and "errorlist" not in response.content.decode()
    response = client.post(
        edit_url(alice_app, "self-assessment"),
        {"score_1_1": "11"},
        headers={**HTMX, "HX-Trigger-Name": "score_1_1"},
    )
    assert "自评分应在 0 至 10 之间" in response.content.decode()
    assert state(alice_app) == before  # the dry runs were rolled back, audit events included
    unknown = client.post(edit_url(alice_app, "details"), {}, headers={**HTMX, "HX-Trigger-Name": "nope"})
    assert unknown.status_code == 400


# --- the office at the qualification stage ----------------------------------------------------------


def test_the_office_checks_manual_criteria(province, complete, as_user):
    to(complete, S.RECOMMENDED, province)
    manual = complete.rule_set.criteria.get(metric="")
    url = reverse("evaluation:application-criterion", args=[complete.uuid, manual.pk])
    html = as_user(province.office).get(complete.get_absolute_url()).content.decode()
    assert url in html
    assert url not in as_user(province.office_viewer).get(complete.get_absolute_url()).content.decode()
    prefix = f"c{manual.pk}"
    before = CriterionCheck.objects.count()
    response = as_user(province.office).post(url, {f"{prefix}-note": "核验商标注册证"})
    assert response.status_code == 422 and "请选择是否满足" in response.content.decode()
    assert as_user(province.office_viewer).post(url, {f"{prefix}-met": "yes"}).status_code == 403
    assert as_user(province.city_jinan).post(url, {f"{prefix}-met": "yes"}).status_code == 403
    assert CriterionCheck.objects.count() == before
    response = as_user(province.office).post(
        url, {f"{prefix}-met": "yes", f"{prefix}-note": "核验商标注册证"}
    )
    assert response.status_code == 302
    check = CriterionCheck.objects.get(application=complete, criterion=manual)
    assert check.met and check.checked_by == province.office
    assert "全部资格条件已满足" in as_user(province.office).get(complete.get_absolute_url()).content.decode()


def test_an_automatic_criterion_with_data_cannot_be_overruled(province, complete, as_user):
    to(complete, S.RECOMMENDED, province)
    revenue = complete.rule_set.criteria.get(metric="revenue")
    url = reverse("evaluation:application-criterion", args=[complete.uuid, revenue.pk])
    html = as_user(province.office).get(complete.get_absolute_url()).content.decode()
    assert url not in html  # no form for a criterion the data decide
    prefix = f"c{revenue.pk}"
    response = as_user(province.office).post(url, {f"{prefix}-met": "no", f"{prefix}-note": "人工"})
    assert response.status_code == 422
    assert "由系统根据申报数据自动判定" in response.content.decode()
    assert not CriterionCheck.objects.filter(criterion=revenue).exists()


def test_the_office_raises_and_resolves_a_veto_finding(province, complete, as_user):
    to(complete, S.RECOMMENDED, province)
    check_manual_criteria(complete, province.office)
    item = complete.rule_set.veto_items.get(code="F3")
    raise_url = reverse("evaluation:application-veto", args=[complete.uuid])
    assert as_user(province.alice).post(raise_url, {"veto_item": item.pk, "note": "x"}).status_code == 403
    client = as_user(province.office)
    response = client.post(raise_url, {"veto_item": item.pk, "note": ""})
    assert response.status_code == 422 and "请填写此项" in response.content.decode()
    assert not VetoFinding.objects.exists()
    response = client.post(
        raise_url,
        {
            "veto_item": item.pk,
            "note": "2024年省级监督抽查不合格（鲁市监抽〔2024〕12号）。",
            "document": SimpleUploadedFile("通报.pdf", PDF),
        },
    )
    assert response.status_code == 302
    finding = VetoFinding.objects.get()
    assert finding.raised_by == province.office and finding.document is not None
    # Qualification is refused while the finding is pending.
    response = client.post(
        action_url(complete, "qualify"), {"qualify-expected_status": "recommended", "qualify-opinion": "符合"}
    )
    assert response.status_code == 422 and "否决情形 F3" in response.content.decode()
    resolve = reverse("evaluation:application-veto-resolve", args=[complete.uuid, finding.pk])
    prefix = f"v{finding.pk}"
    response = client.post(resolve, {f"{prefix}-outcome": "dismiss", f"{prefix}-resolution": ""})
    assert response.status_code == 422
    finding.refresh_from_db()
    assert finding.status == VetoFinding.Status.RAISED
    assert as_user(province.office_viewer).post(resolve, {f"{prefix}-outcome": "dismiss"}).status_code == 403
    client = as_user(province.office)
    response = client.post(
        resolve, {f"{prefix}-outcome": "dismiss", f"{prefix}-resolution": "系同名企业，不成立。"}
    )
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == VetoFinding.Status.DISMISSED and finding.resolved_by == province.office
    assert audit_count("evaluation.veto.resolved") == 1
    response = client.post(
        action_url(complete, "qualify"), {"qualify-expected_status": "recommended", "qualify-opinion": "符合"}
    )
    assert response.status_code == 302


def test_expert_results_are_shown_to_the_office_once_aggregated(province, complete, as_user):
    to(complete, S.REVIEWED, province)
    Application.objects.filter(pk=complete.pk).update(
        score_total="86.25", rank=2, passed=True, within_quota=True, score_spread="3.10"
    )
    for user in (province.office, province.office_viewer):
        html = as_user(user).get(complete.get_absolute_url()).content.decode()
        assert "专家评审结果" in html and "86.25" in html and "在名额内" in html
    for user in (province.alice, province.city_jinan):
        html = as_user(user).get(complete.get_absolute_url()).content.decode()
        assert "专家评审结果" not in html and "86.25" not in html
