"""Rule sets: drafting, publishing (complete and consistent only), immutability, versions,
automatic eligibility checks, and the Excel round trip."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent
from haopin.standards import criteria, excel, services
from haopin.standards.defaults import fill_rule_set
from haopin.standards.models import Criterion, Indicator, RuleSet


@pytest.fixture
def draft(province):
    rule_set = services.ruleset_create(
        actor=province.office,
        category=province.cat_food,
        brand_type=province.product_type,
        title="食品饮料产品品牌评价细则",
    )
    return fill_rule_set(actor=province.office, rule_set=rule_set)


def test_only_the_office_drafts_rule_sets(province):
    for user in (
        province.city_jinan,
        province.dept_agri,
        province.alice,
        province.office_viewer,
        province.expert,
    ):
        with pytest.raises(PermissionDeniedError):
            services.ruleset_create(
                actor=user, category=province.cat_food, brand_type=province.product_type, title="x"
            )
    assert not RuleSet.objects.exists()


def test_the_model_rule_set_publishes_and_is_then_immutable(province, draft):
    assert services.ruleset_problems(draft) == []
    published = services.ruleset_publish(actor=province.office, rule_set=draft)
    assert published.status == RuleSet.Status.PUBLISHED and published.published_at
    leaf = Indicator.objects.filter(rule_set=draft, parent__isnull=False).first()
    with pytest.raises(ConflictError, match="不可修改"):
        services.ruleset_item_update(actor=province.office, item=leaf, max_score=Decimal("99"))
    with pytest.raises(ConflictError):
        services.ruleset_update(actor=province.office, rule_set=draft, pass_line=Decimal("60"))
    with pytest.raises(ConflictError):
        services.ruleset_item_add(actor=province.office, rule_set=draft, kind="veto", code="F9", text="x")
    leaf.refresh_from_db()
    assert leaf.max_score != Decimal("99")
    assert AuditEvent.objects.filter(action="standards.ruleset.published").count() == 1


def test_publishing_refuses_scores_that_do_not_add_up(province, draft):
    leaf = Indicator.objects.get(rule_set=draft, code="1.1")
    services.ruleset_item_update(actor=province.office, item=leaf, max_score=Decimal("9"))
    problems = services.ruleset_problems(draft)
    assert "一级指标“质量”分值为 30，其二级指标合计 29，两者应相等。" in problems
    with pytest.raises(ValidationFailed, match="不能发布"):
        services.ruleset_publish(actor=province.office, rule_set=draft)
    draft.refresh_from_db()
    assert draft.status == RuleSet.Status.DRAFT


def test_dimension_without_indicators_and_total_other_than_100_are_named(province):
    rule_set = services.ruleset_create(
        actor=province.office,
        category=province.cat_tea,
        brand_type=province.gi_type,
        title="茶叶地理标志品牌评价细则",
    )
    services.ruleset_item_add(
        actor=province.office,
        rule_set=rule_set,
        kind="indicator",
        code="1",
        name="质量",
        max_score=Decimal("40"),
    )
    problems = services.ruleset_problems(rule_set)
    assert "一级指标“质量”下没有二级指标。" in problems
    assert "一级指标分值合计为 40，应为 100。" in problems


def test_automatic_criterion_needs_operator_and_threshold(province, draft):
    with pytest.raises(ValidationFailed, match="比较方式"):
        services.ruleset_item_add(
            actor=province.office,
            rule_set=draft,
            kind="criterion",
            code="Z9",
            text="营业收入",
            metric="revenue",
        )
    with pytest.raises(ValidationFailed, match="阈值"):
        services.ruleset_item_add(
            actor=province.office,
            rule_set=draft,
            kind="criterion",
            code="Z9",
            text="营业收入",
            metric="revenue",
            operator="ge",
        )
    assert not draft.criteria.filter(code="Z9").exists()


def test_duplicate_code_is_refused(province, draft):
    with pytest.raises(ValidationFailed, match="编号已存在"):
        services.ruleset_item_add(actor=province.office, rule_set=draft, kind="veto", code="F1", text="重复")


def test_new_version_copies_the_tree_and_leaves_the_published_one_alone(province, draft):
    services.ruleset_publish(actor=province.office, rule_set=draft)
    second = services.ruleset_new_version(actor=province.office, rule_set=draft)
    assert (second.version, second.status, second.based_on_id) == (2, RuleSet.Status.DRAFT, draft.pk)
    assert second.indicators.count() == draft.indicators.count() == 21
    assert second.indicators.filter(parent__isnull=False, parent__rule_set=second).count() == 15
    assert second.criteria.count() == draft.criteria.count()
    leaf = second.indicators.get(code="1.1")
    services.ruleset_item_update(actor=province.office, item=leaf, guidance="新的评分要点")
    assert draft.indicators.get(code="1.1").guidance != "新的评分要点"
    with pytest.raises(ConflictError, match="已有草稿"):
        services.ruleset_new_version(actor=province.office, rule_set=draft)


def test_only_one_draft_per_category_and_type(province, draft):
    with pytest.raises(ValidationFailed, match="草稿"):
        services.ruleset_create(
            actor=province.office,
            category=province.cat_food,
            brand_type=province.product_type,
            title="另一个",
        )


def test_criteria_are_evaluated_with_alternatives(province, draft):
    rules = list(draft.criteria.all())
    strong = {
        "years_registered": 12,
        "revenue": 52000,
        "rd_ratio": Decimal("4.2"),
        "national_rank": 35,
        "provincial_rank": 3,
        "credit_clean": True,
        "inspection_clean": True,
    }
    outcomes = criteria.evaluate(rules, strong)
    by_code = {o.criterion.code: o for o in outcomes}
    assert by_code["Z4"].met is False and by_code["Z5"].met is True  # group A met through Z5
    assert by_code["Z8"].met is None  # manual
    assert criteria.verdict(outcomes) is None  # a reviewer still checks Z8
    weak = {**strong, "revenue": 1500}
    assert criteria.verdict(criteria.evaluate(rules, weak)) is False
    assert (
        "营业收入（万元） 1500，要求 ≥ 2000"
        in {o.criterion.code: o for o in criteria.evaluate(rules, weak)}["Z2"].explanation
    )
    both_ranks_low = {**strong, "provincial_rank": 9}
    assert criteria.verdict(criteria.evaluate(rules, both_ranks_low)) is False
    missing = {k: v for k, v in strong.items() if k != "rd_ratio"}
    outcome = {o.criterion.code: o for o in criteria.evaluate(rules, missing)}["Z3"]
    assert outcome.met is None and "需人工核实" in outcome.explanation
    automatic_only = [c for c in rules if c.metric]
    assert criteria.verdict(criteria.evaluate(automatic_only, strong)) is True


def test_excel_round_trip_into_a_new_draft(province, draft):
    data = excel.export(draft)
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["细则", "指标", "否决项", "资格条件"]
    assert workbook["指标"]["C2"].value == "质量"
    other = services.ruleset_create(
        actor=province.office,
        category=province.cat_tea,
        brand_type=province.product_type,
        title="茶叶产品品牌评价细则",
    )
    excel.ruleset_import(actor=province.office, rule_set=other, upload=io.BytesIO(data))
    assert services.ruleset_problems(other) == []
    assert sorted(other.indicators.values_list("code", "max_score")) == sorted(
        draft.indicators.values_list("code", "max_score")
    )
    z4 = other.criteria.get(code="Z4")
    assert (z4.metric, z4.operator, z4.threshold, z4.group) == ("national_rank", "le", Decimal("20"), "A")


def test_excel_import_reports_every_bad_row_and_changes_nothing(province, draft):
    workbook = load_workbook(io.BytesIO(excel.export(draft)))
    workbook["指标"]["D3"] = "十分"
    workbook["指标"]["B4"] = "9"
    workbook["资格条件"]["C2"] = "员工人数"
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = list(draft.indicators.values_list("code", "max_score"))
    with pytest.raises(ValidationFailed) as caught:
        excel.ruleset_import(actor=province.office, rule_set=draft, upload=io.BytesIO(buffer.getvalue()))
    errors = caught.value.details["errors"]
    assert {(e["sheet"], e["row"], e["column"]) for e in errors} >= {
        ("指标", 3, "分值"),
        ("指标", 4, "上级编号"),
        ("资格条件", 2, "自动判定指标"),
    }
    assert list(draft.indicators.values_list("code", "max_score")) == before


def test_excel_import_rejects_a_file_that_is_not_excel(province, draft):
    with pytest.raises(ValidationFailed, match="文件类型不符"):
        excel.ruleset_import(actor=province.office, rule_set=draft, upload=io.BytesIO(b"%PDF-1.4 not excel"))
    assert draft.indicators.count() == 21


def test_criterion_metric_labels_are_complete():
    assert set(excel.METRIC_BY_LABEL.values()) == set(Criterion.Metric.values)
