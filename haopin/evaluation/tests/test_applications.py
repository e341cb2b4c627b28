"""Applications: starting one (by the owner, or as a recommendation), filling it in, and
submitting it. Also the shared helpers of the evaluation tests (rule sets, an open batch, a
complete application, moving one along the review), imported by the other test modules."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine

from haopin.accounts.models import User
from haopin.core import numbering
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent, Category
from haopin.evaluation import selectors, services
from haopin.evaluation.models import (
    Application,
    Assignment,
    Decision,
    Evidence,
    Figure,
    PanelDraw,
    SelfAssessment,
)
from haopin.notifications.models import Notification
from haopin.registry import services as registry_services
from haopin.registry.models import Brand, Product
from haopin.standards import services as standards_services
from haopin.standards.defaults import fill_rule_set

S = Application.Status
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2025, 5, 13, 10, 0, tzinfo=SHANGHAI)  # a Tuesday, inside the window below
APPLY_FROM, APPLY_UNTIL = dt.date(2025, 5, 1), dt.date(2025, 6, 30)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


# --- shared helpers ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def publish_rule_set(office, category, brand_type, title):
    rule_set = standards_services.ruleset_create(
        actor=office, category=category, brand_type=brand_type, title=title
    )
    fill_rule_set(actor=office, rule_set=rule_set)
    return standards_services.ruleset_publish(actor=office, rule_set=rule_set)


@pytest.fixture
def rule_sets(province):
    food = Category.objects.get(code="201")
    tea = Category.objects.get(code="105")
    return SimpleNamespace(
        food=publish_rule_set(province.office, food, province.product_type, "食品饮料产品品牌评价细则"),
        tea=publish_rule_set(province.office, tea, province.gi_type, "茶叶地理标志品牌评价细则"),
        food_category=food,
        tea_category=tea,
    )


def new_batch(office, *, year=2025, sequence=1, **values):
    values.setdefault("title", f"{year}年第{sequence}批好品山东品牌评价")
    values.setdefault("apply_from", APPLY_FROM)
    values.setdefault("apply_until", APPLY_UNTIL)
    return services.batch_create(actor=office, year=year, sequence=sequence, **values)


@pytest.fixture
def batch(province, rule_sets):
    """An open batch (2025, 第1批) with the food-product and tea-GI rule sets."""
    created = new_batch(province.office)
    services.batch_rule_set_attach(actor=province.office, batch=created, rule_set=rule_sets.food)
    services.batch_rule_set_attach(actor=province.office, batch=created, rule_set=rule_sets.tea)
    return services.batch_open(actor=province.office, batch=created)


FIGURES = [
    {
        "year": year,
        "revenue": "5000",
        "profit": "600",
        "tax": "250",
        "rd_spend": "250",
        "export": "100",
        "employees": 320,
    }
    for year in (2022, 2023, 2024)
]


def leaf_scores(rule_set, share=Decimal("0.8")):
    return {
        i.code: (i.max_score * share).quantize(Decimal("0.1"))
        for i in rule_set.indicators.filter(parent__isnull=False)
    }


def fill_in(application, user, *, founded_on=dt.date(2010, 3, 1), figures=FIGURES, sign=True):
    """Complete every part of ``application`` as its owner ``user``; eligible by default."""
    registry_services.enterprise_update(actor=user, enterprise=application.enterprise, founded_on=founded_on)
    services.application_update(
        actor=user,
        application=application,
        products=list(application.brand.products.all()),
        summary="本地传统名品，质量稳定，市场占有率居全省前列。",
        national_rank=12,
        provincial_rank=3,
        credit_clean=True,
        inspection_clean=True,
    )
    services.application_set_figures(actor=user, application=application, figures=figures)
    services.application_set_self_assessment(
        actor=user, application=application, scores=leaf_scores(application.rule_set)
    )
    if sign:
        services.application_sign_declaration(actor=user, application=application, name="李明")
    application.refresh_from_db()
    return application


ORDER = [S.DRAFT, S.SUBMITTED, S.RECOMMENDED, S.QUALIFIED, S.CHECKED, S.EXPERT_REVIEW, S.REVIEWED]
ORDER += [S.CONSULTED, S.APPROVED]
STEP = {
    S.SUBMITTED: ("submit", ""),
    S.RECOMMENDED: ("recommend", "材料真实，同意推荐。"),
    S.QUALIFIED: ("qualify", "符合申报条件。"),
    S.CHECKED: ("check", "舆情与信用核查无异常。"),
    S.EXPERT_REVIEW: ("start_review", ""),
    S.REVIEWED: ("complete_review", ""),
    S.CONSULTED: ("consult", "相关部门无不同意见。"),
    S.APPROVED: ("approve", "审定通过。"),
}


def check_manual_criteria(application, office):
    for criterion in application.rule_set.criteria.filter(metric=""):
        services.application_check_criterion(
            actor=office, application=application, criterion=criterion, met=True, note="核验商标注册证"
        )


def advance(application, target, *, owner, recommender, office):
    """Move a (complete) application along the review up to ``target``."""
    application.refresh_from_db()
    start = ORDER.index(application.status)
    for status in ORDER[start + 1 : ORDER.index(target) + 1]:
        action, opinion = STEP[status]
        actor = {S.SUBMITTED: owner, S.RECOMMENDED: recommender}.get(status, office)
        if action == "qualify":
            check_manual_criteria(application, office)
        if action == "approve" and application.score_total is None:
            # What aggregating the panel's sheets records (test_scoring covers it): a total
            # above the pass line and a place in the quotas, which approval requires.
            Application.objects.filter(pk=application.pk).update(
                score_total=Decimal("85.00"), passed=True, within_quota=True, quota_tie=False
            )
        services.application_move(application=application, action=action, actor=actor, opinion=opinion)
    application.refresh_from_db()
    return application


def assign_expert(application, expert_user, status):
    """Put ``expert_user`` on ``application``'s panel (as the expert draw would) with ``status``."""
    draw = PanelDraw.objects.create(
        batch=application.batch,
        rule_set=application.rule_set,
        seed="f" * 32,
        panel_size=3,
        reserve_size=0,
        avoid_same_city=False,
        pool_digest="0" * 64,
        result_digest="0" * 64,
        created_by=User.objects.get(username="office"),
    )
    return Assignment.objects.create(
        application=application,
        expert=expert_user.expert_profile,
        draw=draw,
        role=Assignment.Role.PANEL,
        order=1,
        status=status,
    )


@pytest.fixture
def alice_app(province, batch):
    return services.application_start(actor=province.alice, batch=batch, brand=province.alice_brand)


@pytest.fixture
def bob_app(province, batch):
    return services.application_start(actor=province.bob, batch=batch, brand=province.bob_brand)


def audit_count(action):
    return AuditEvent.objects.filter(action=action).count()


# --- starting an application ---------------------------------------------------------------------


def test_owner_starts_an_application_bound_to_the_batch_rule_set(province, batch, rule_sets):
    application = services.application_start(actor=province.alice, batch=batch, brand=province.alice_brand)
    assert application.status == S.DRAFT
    assert application.route == Application.Route.VOLUNTARY and application.recommender_id is None
    # 加工食品 (level 3) applies under 食品饮料 (level 2), product brands.
    assert application.rule_set == rule_sets.food
    assert application.enterprise == province.alice_ent and application.created_by == province.alice
    assert numbering.is_valid(application.number) and application.number.startswith("SQ2025")
    event = AuditEvent.objects.get(action="evaluation.application.created")
    assert event.target_id == str(application.pk) and event.new["number"] == application.number


def test_numbers_carry_a_check_character_and_are_unique(province, batch):
    numbers = []
    for index in range(5):
        brand = Brand.objects.create(
            name=f"泉城{index}号",
            owner=province.alice_ent,
            brand_type=province.product_type,
            category=province.cat_food,
            region=province.lixia,
            tier=province.pool,
        )
        numbers.append(services.application_start(actor=province.alice, batch=batch, brand=brand).number)
    assert len(set(numbers)) == 5
    assert all(numbering.is_valid(n) for n in numbers)
    assert [n[:-1] for n in numbers] == [f"SQ2025{i:06d}" for i in range(1, 6)]
    typo = numbers[0][:-2] + ("7" if numbers[0][-2] != "7" else "8") + numbers[0][-1]
    with pytest.raises(ValidationFailed, match="校验位不符"):
        numbering.normalise(typo, label="申报编号")


def test_only_the_owner_writing_members_start_an_application(province, batch):
    for user in (province.bob, province.alice_viewer, province.office, province.admin, province.carol):
        with pytest.raises(PermissionDeniedError):
            services.application_start(actor=user, batch=batch, brand=province.alice_brand)
    assert not Application.objects.exists()


def test_a_brand_without_a_rule_set_in_the_batch_is_refused(province, batch):
    trade = Brand.objects.create(
        name="泉城老号",
        owner=province.alice_ent,
        brand_type=province.product_type,
        category=Category.objects.get(code="30202"),
        region=province.lixia,
        tier=province.pool,
    )
    with pytest.raises(ValidationFailed, match="本批次未设置“商贸服务·产品品牌”的评价细则"):
        services.application_start(actor=province.alice, batch=batch, brand=trade)
    assert not Application.objects.exists()


def test_applications_are_refused_outside_the_window(province, batch, frozen_clock):
    frozen_clock.move_to(dt.datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI))
    with pytest.raises(ValidationFailed, match="当前不受理申报") as refused:
        services.application_start(actor=province.alice, batch=batch, brand=province.alice_brand)
    assert refused.value.code == "window_closed"
    frozen_clock.move_to(NOW)
    services.batch_close_applications(actor=province.office, batch=batch)
    with pytest.raises(ValidationFailed, match="当前不受理申报"):
        services.application_start(actor=province.alice, batch=batch, brand=province.alice_brand)
    assert not Application.objects.exists()


def test_a_brand_has_one_live_application_per_batch(province, batch, alice_app):
    with pytest.raises(ConflictError, match=alice_app.number):
        services.application_start(actor=province.alice, batch=batch, brand=province.alice_brand)
    services.application_move(application=alice_app, action="withdraw", actor=province.alice)
    again = services.application_start(actor=province.alice, batch=batch, brand=province.alice_brand)
    assert again.number != alice_app.number
    assert Application.objects.filter(brand=province.alice_brand).count() == 2


# --- recommendations -----------------------------------------------------------------------------


def test_a_city_bureau_recommends_a_brand_of_its_region(province, batch):
    application = services.application_recommend_start(
        actor=province.city_jinan, batch=batch, brand=province.alice_brand, summary="历下区重点培育品牌"
    )
    assert application.route == Application.Route.RECOMMENDED
    assert application.recommender == province.jinan_org
    assert application.enterprise == province.alice_ent and application.summary == "历下区重点培育品牌"
    # The owner is told to complete it; its read-only member is not asked to act.
    note = Notification.objects.get(kind="evaluation.application.to_complete")
    assert note.user == province.alice and application.number in note.title
    # The owner completes and submits it; the recommending bureau is told.
    fill_in(application, province.alice)
    services.application_submit(actor=province.alice, application=application)
    told = Notification.objects.filter(kind="evaluation.application.submitted")
    assert set(told.values_list("user__username", flat=True)) == {"city-jinan"}


def test_city_qingdao_cannot_recommend_a_jinan_brand(province, batch):
    with pytest.raises(PermissionDeniedError, match="推荐范围"):
        services.application_recommend_start(
            actor=province.city_qingdao, batch=batch, brand=province.alice_brand
        )
    assert not Application.objects.exists()


def test_the_agriculture_department_recommends_tea_but_not_food(province, batch, rule_sets):
    application = services.application_recommend_start(
        actor=province.dept_agri, batch=batch, brand=province.bob_brand
    )
    assert application.recommender == province.agri_org and application.rule_set == rule_sets.tea
    with pytest.raises(PermissionDeniedError):
        services.application_recommend_start(
            actor=province.dept_agri, batch=batch, brand=province.alice_brand
        )
    assert Application.objects.count() == 1


def test_enterprises_and_read_only_units_do_not_start_recommendations(province, batch):
    for user in (province.alice, province.office_viewer, province.admin):
        with pytest.raises(PermissionDeniedError):
            services.application_recommend_start(actor=user, batch=batch, brand=province.alice_brand)
    # A county bureau of the enterprise's own county may.
    application = services.application_recommend_start(
        actor=province.county_lixia, batch=batch, brand=province.alice_brand
    )
    assert application.recommender == province.lixia_org


# --- filling it in -------------------------------------------------------------------------------


def test_applicant_edits_text_products_ranks_and_competitors(province, alice_app):
    competitor = "91370212MA3C0000"  # 16 characters
    with pytest.raises(ValidationFailed) as bad:
        services.application_update(actor=province.alice, application=alice_app, competitors=[competitor])
    assert "competitors" in bad.value.details
    good = province.bob_ent.uscc.lower()
    updated = services.application_update(
        actor=province.alice,
        application=alice_app,
        summary="  百年老字号  ",
        competitors=[good, good],
        national_rank="15",
        products=[province.alice_product],
    )
    assert updated.summary == "百年老字号"
    assert updated.competitors == [province.bob_ent.uscc]
    assert updated.national_rank == 15
    assert list(updated.products.all()) == [province.alice_product]
    event = AuditEvent.objects.filter(action="evaluation.application.updated").latest("seq")
    assert event.new["products"] == [province.alice_product.pk] and event.old["products"] == []


def test_only_the_brand_products_and_valid_values_are_accepted(province, alice_app):
    with pytest.raises(ValidationFailed, match="只能选择本品牌的产品") as refused:
        services.application_update(
            actor=province.alice, application=alice_app, products=[province.bob_product]
        )
    assert "products" in refused.value.details
    with pytest.raises(ValidationFailed, match="正整数"):
        services.application_update(actor=province.alice, application=alice_app, provincial_rank=0)
    with pytest.raises(ValidationFailed, match="本单位"):
        services.application_update(
            actor=province.alice, application=alice_app, competitors=[province.alice_ent.uscc]
        )
    with pytest.raises(ValidationFailed, match="不允许修改"):
        services.application_update(actor=province.alice, application=alice_app, status="approved")
    alice_app.refresh_from_db()
    assert (
        alice_app.status == S.DRAFT and not alice_app.products.exists() and alice_app.provincial_rank is None
    )


def test_others_cannot_edit_the_application(province, alice_app):
    with pytest.raises(NotFoundError):
        services.application_update(actor=province.bob, application=alice_app, summary="x")
    for user in (province.alice_viewer, province.city_jinan, province.office):
        with pytest.raises(PermissionDeniedError):
            services.application_update(actor=user, application=alice_app, summary="x")
    alice_app.refresh_from_db()
    assert alice_app.summary == ""


def test_figures_only_for_the_three_years_before_the_batch_year(province, alice_app):
    with pytest.raises(ValidationFailed, match="2022、2023、2024") as wrong:
        services.application_set_figures(
            actor=province.alice, application=alice_app, figures=[{**FIGURES[0], "year": 2025}]
        )
    assert "figures.2025" in wrong.value.details
    with pytest.raises(ValidationFailed) as negative:
        services.application_set_figures(
            actor=province.alice, application=alice_app, figures=[{**FIGURES[0], "revenue": "-1"}]
        )
    assert "figures.2022.revenue" in negative.value.details
    with pytest.raises(ValidationFailed, match="数字"):
        services.application_set_figures(
            actor=province.alice, application=alice_app, figures=[{**FIGURES[0], "tax": "很多"}]
        )
    assert not Figure.objects.exists()
    services.application_set_figures(actor=province.alice, application=alice_app, figures=FIGURES)
    services.application_set_figures(
        actor=province.alice, application=alice_app, figures=[{"year": 2024, "revenue": "6000"}]
    )
    figures = {f.year: f for f in alice_app.figures.all()}
    assert sorted(figures) == [2022, 2023, 2024]
    assert figures[2024].revenue == Decimal("6000") and figures[2023].revenue == Decimal("5000")
    assert figures[2024].rd_ratio == Decimal("4.17")


def test_self_assessment_per_leaf_indicator_within_its_maximum(province, alice_app):
    leaf = alice_app.rule_set.indicators.get(code="1.1")  # max 10
    with pytest.raises(ValidationFailed, match="0 至 10") as high:
        services.application_set_self_assessment(
            actor=province.alice, application=alice_app, scores={"1.1": "10.5"}
        )
    assert "scores.1.1" in high.value.details
    with pytest.raises(ValidationFailed):
        services.application_set_self_assessment(
            actor=province.alice, application=alice_app, scores={"1.1": -1}
        )
    with pytest.raises(ValidationFailed, match="二级指标"):
        services.application_set_self_assessment(
            actor=province.alice, application=alice_app, scores={"1": 20}
        )
    with pytest.raises(ValidationFailed, match="没有该指标"):
        services.application_set_self_assessment(
            actor=province.alice, application=alice_app, scores={"9.9": 1}
        )
    assert not SelfAssessment.objects.exists()
    services.application_set_self_assessment(
        actor=province.alice,
        application=alice_app,
        scores={"1.1": "9.5"},
        notes={"1.1": "通过 ISO 9001 认证"},
    )
    entry = SelfAssessment.objects.get(application=alice_app, indicator=leaf)
    assert entry.score == Decimal("9.5") and entry.note == "通过 ISO 9001 认证"


def test_evidence_is_stored_through_the_registry(province, alice_app):
    indicator = alice_app.rule_set.indicators.get(code="1.1")
    evidence = services.application_evidence_add(
        actor=province.alice,
        application=alice_app,
        upload=io.BytesIO(PDF),
        name="质量管理体系认证证书.pdf",
        title="质量管理体系认证证书",
        indicator=indicator,
    )
    assert evidence.document.purpose == "evidence" and evidence.document.brand == province.alice_brand
    assert evidence.indicator == indicator
    assert audit_count("registry.document.uploaded") == 1
    assert audit_count("evaluation.application.evidence_added") == 1
    with pytest.raises(ValidationFailed, match="文件类型不符"):
        services.application_evidence_add(
            actor=province.alice,
            application=alice_app,
            upload=io.BytesIO(b"MZ\x90\x00"),
            name="a.pdf",
            title="x",
        )
    services.application_evidence_remove(actor=province.alice, evidence=evidence)
    assert not Evidence.objects.exists()
    assert audit_count("evaluation.application.evidence_removed") == 1


def test_any_edit_after_signing_clears_the_declaration(province, alice_app):
    signed = services.application_sign_declaration(actor=province.alice, application=alice_app, name=" 李明 ")
    assert signed.declaration_signed_by == "李明" and signed.declaration_signed_at == NOW
    assert audit_count("evaluation.application.declaration_signed") == 1
    services.application_update(actor=province.alice, application=alice_app, summary="补充说明")
    alice_app.refresh_from_db()
    assert alice_app.declaration_signed_by == "" and alice_app.declaration_signed_at is None
    event = AuditEvent.objects.filter(action="evaluation.application.updated").latest("seq")
    assert event.old["declaration_signed_by"] == "李明"
    services.application_sign_declaration(actor=province.alice, application=alice_app, name="李明")
    services.application_set_self_assessment(actor=province.alice, application=alice_app, scores={"1.1": 8})
    alice_app.refresh_from_db()
    assert alice_app.declaration_signed_at is None
    with pytest.raises(ValidationFailed, match="承诺人"):
        services.application_sign_declaration(actor=province.alice, application=alice_app, name="  ")


# --- submitting ----------------------------------------------------------------------------------


def test_submit_names_every_gap_and_changes_nothing(province, alice_app):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed, match="不能提交") as refused:
        services.application_submit(actor=province.alice, application=alice_app)
    gaps = refused.value.details
    assert set(gaps) == {"summary", "products", "figures", "self_assessment", "declaration"}
    assert gaps["figures"] == "请填写2022年、2023年、2024年的主要经济指标。"
    assert gaps["self_assessment"].startswith("还有 15 项指标未自评：1.1、1.2")
    for message in gaps.values():
        assert message in refused.value.message
    alice_app.refresh_from_db()
    assert alice_app.status == S.DRAFT and alice_app.submitted_at is None
    assert not Decision.objects.exists() and AuditEvent.objects.count() == events
    # One gap left: exactly that one is named.
    fill_in(alice_app, province.alice, sign=False)
    assert selectors.application_gaps(alice_app) == {"declaration": "请签署申报材料真实性承诺。"}


def test_a_complete_application_is_submitted_and_frozen(province, alice_app):
    fill_in(alice_app, province.alice)
    submitted = services.application_submit(
        actor=province.alice, application=alice_app, expected_status=S.DRAFT
    )
    assert submitted.status == S.SUBMITTED and submitted.submitted_at == NOW
    decision = Decision.objects.get(application=alice_app)
    assert (decision.action, decision.from_status, decision.to_status) == ("submit", "draft", "submitted")
    assert decision.actor == province.alice and decision.organisation == province.alice_org
    assert audit_count("evaluation.application.moved") == 1
    with pytest.raises(ConflictError, match="只有填报中或退回修改"):
        services.application_update(actor=province.alice, application=alice_app, summary="改")
    with pytest.raises(ConflictError):
        services.application_set_figures(actor=province.alice, application=alice_app, figures=FIGURES[:1])
    # The bureaus of its city and county are asked to recommend it (writing members only).
    told = set(
        Notification.objects.filter(kind="evaluation.application.submitted").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"city-jinan", "county-lixia"}


def test_the_agriculture_department_is_asked_to_recommend_a_tea_application(province, bob_app):
    fill_in(bob_app, province.bob)
    services.application_submit(actor=province.bob, application=bob_app)
    told = set(
        Notification.objects.filter(kind="evaluation.application.submitted").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"city-qingdao", "dept-agri"}


def test_alice_cannot_submit_bobs_application(province, bob_app):
    fill_in(bob_app, province.bob)
    with pytest.raises(PermissionDeniedError, match="提交申报"):
        services.application_submit(actor=province.alice, application=bob_app)
    with pytest.raises(PermissionDeniedError):
        services.application_submit(actor=province.alice_viewer, application=bob_app)
    bob_app.refresh_from_db()
    assert bob_app.status == S.DRAFT and not Decision.objects.exists()


def test_a_draft_cannot_be_submitted_after_the_window(province, alice_app, frozen_clock):
    fill_in(alice_app, province.alice)
    frozen_clock.move_to(dt.datetime(2025, 7, 1, 9, 0, tzinfo=SHANGHAI))
    with pytest.raises(ValidationFailed) as refused:
        services.application_submit(actor=province.alice, application=alice_app)
    assert set(refused.value.details) == {"window"}
    assert "2025年5月1日至2025年6月30日" in refused.value.details["window"]
    alice_app.refresh_from_db()
    assert alice_app.status == S.DRAFT


def test_a_returned_application_is_resubmitted_within_its_deadline(province, alice_app, frozen_clock):
    fill_in(alice_app, province.alice)
    services.application_submit(actor=province.alice, application=alice_app)
    deadline = dt.date(2025, 7, 10)
    services.application_move(
        application=alice_app,
        action="return",
        actor=province.city_jinan,
        opinion="请补充检测报告",
        deadline=deadline,
    )
    # After the window, but within the deadline: corrections and resubmission are accepted.
    frozen_clock.move_to(dt.datetime(2025, 7, 5, 9, 0, tzinfo=SHANGHAI))
    alice_app = services.application_update(
        actor=province.alice, application=alice_app, summary="已补充检测报告"
    )
    assert set(selectors.application_gaps(alice_app)) == {"declaration"}
    services.application_sign_declaration(actor=province.alice, application=alice_app, name="李明")
    services.application_submit(actor=province.alice, application=alice_app)
    alice_app.refresh_from_db()
    assert alice_app.status == S.SUBMITTED and alice_app.return_deadline is None


def test_a_returned_application_past_its_deadline_cannot_be_submitted(province, alice_app, frozen_clock):
    fill_in(alice_app, province.alice)
    services.application_submit(actor=province.alice, application=alice_app)
    services.application_move(
        application=alice_app,
        action="return",
        actor=province.city_jinan,
        opinion="请补充",
        deadline=dt.date(2025, 5, 20),
    )
    frozen_clock.move_to(dt.datetime(2025, 5, 21, 9, 0, tzinfo=SHANGHAI))
    with pytest.raises(ValidationFailed, match="整改期限（2025年5月20日）已过"):
        services.application_submit(actor=province.alice, application=alice_app)
    alice_app.refresh_from_db()
    assert alice_app.status == S.RETURNED


def test_products_of_other_brands_never_reach_the_application(province, alice_app):
    other = Product.objects.create(brand=province.bob_brand, name="崂山红茶", specification="100g")
    with pytest.raises(ValidationFailed):
        services.application_update(
            actor=province.alice, application=alice_app, products=[province.alice_product, other]
        )
    assert not alice_app.products.exists()
