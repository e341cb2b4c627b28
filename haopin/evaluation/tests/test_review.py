"""The review: every move allowed and refused, who may take it, the rules behind qualification
(eligibility facts, manual criteria, veto findings), returns and withdrawals, concurrent
decisions, and who is told."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from haopin.accounts.models import User
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent
from haopin.core.workflow import IllegalTransition
from haopin.evaluation import facts, services
from haopin.evaluation.models import Application, Assignment, CriterionCheck, Decision, VetoFinding
from haopin.evaluation.tests import test_applications as shared
from haopin.evaluation.tests.test_applications import (
    FIGURES,
    NOW,
    advance,
    assign_expert,
    audit_count,
    check_manual_criteria,
    fill_in,
)
from haopin.evaluation.workflow import APPLICATION_TRANSITIONS
from haopin.notifications.models import Notification

S = Application.Status

frozen_clock = shared.frozen_clock
rule_sets = shared.rule_sets
batch = shared.batch
alice_app = shared.alice_app
bob_app = shared.bob_app


@pytest.fixture
def complete(province, alice_app):
    return fill_in(alice_app, province.alice)


def to(application, status, province):
    return advance(
        application, status, owner=province.alice, recommender=province.city_jinan, office=province.office
    )


def snapshot(application):
    application.refresh_from_db()
    return (
        application.status,
        Decision.objects.filter(application=application).count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


# --- the path through the review -------------------------------------------------------------------


def test_the_whole_review_records_who_decided_what(province, complete):
    approved = to(complete, S.APPROVED, province)
    assert approved.status == S.APPROVED
    decisions = list(Decision.objects.filter(application=complete).order_by("pk"))
    assert [d.action for d in decisions] == [
        "submit",
        "recommend",
        "qualify",
        "check",
        "start_review",
        "complete_review",
        "consult",
        "approve",
    ]
    recommend = decisions[1]
    assert recommend.actor == province.city_jinan and recommend.organisation == province.jinan_org
    assert (recommend.from_status, recommend.to_status) == ("submitted", "recommended")
    assert recommend.opinion == "材料真实，同意推荐。"
    assert all(d.organisation == province.office_org for d in decisions[2:])
    moves = AuditEvent.objects.filter(action="evaluation.application.moved", target_id=str(complete.pk))
    assert moves.count() == 8
    assert moves.order_by("seq").last().new["action"] == "approve"


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({}, "尚未汇总专家评分"),
        ({"score_total": Decimal("59.50"), "passed": False, "within_quota": False}, "未达到合格分数线"),
        ({"score_total": Decimal("85.00"), "passed": True, "within_quota": False}, "超出本批次名额"),
        (
            {"score_total": Decimal("85.00"), "passed": True, "within_quota": None, "quota_tie": True},
            "裁定名额",
        ),
    ],
)
def test_approval_needs_the_pass_line_and_a_place_in_the_quotas(province, complete, scores, message):
    to(complete, S.CONSULTED, province)
    Application.objects.filter(pk=complete.pk).update(
        **{"score_total": None, "passed": None, "within_quota": None, "quota_tie": False, **scores}
    )
    before = snapshot(complete)
    with pytest.raises(ValidationFailed) as refused:
        services.application_move(
            application=complete, action="approve", actor=province.office, opinion="同意"
        )
    assert message in refused.value.message
    assert snapshot(complete) == before
    Application.objects.filter(pk=complete.pk).update(
        score_total=Decimal("85.00"), passed=True, within_quota=True, quota_tie=False
    )
    moved = services.application_move(
        application=complete, action="approve", actor=province.office, opinion="同意"
    )
    assert moved.status == S.APPROVED


@pytest.mark.parametrize("action", sorted(APPLICATION_TRANSITIONS))
def test_every_illegal_move_is_refused_and_changes_nothing(province, complete, action):
    move = APPLICATION_TRANSITIONS[action]
    for status in S.values:
        if status in move.source:
            continue
        Application.objects.filter(pk=complete.pk).update(status=status)
        before = snapshot(complete)
        with pytest.raises(IllegalTransition) as refused:
            services.application_move(
                application=complete,
                action=action,
                actor=province.office,
                opinion="意见",
                deadline=dt.date(2025, 6, 30),
            )
        label = dict(S.choices)[status]
        assert refused.value.message == f"当前状态为“{label}”，不能执行“{move.label}”。"
        assert snapshot(complete) == before


def test_an_unknown_action_is_refused(province, complete):
    with pytest.raises(ValidationFailed, match="未知的操作"):
        services.application_move(application=complete, action="promote", actor=province.office)


# --- who may decide --------------------------------------------------------------------------------


def test_city_qingdao_cannot_recommend_a_jinan_application(province, complete):
    services.application_submit(actor=province.alice, application=complete)
    before = snapshot(complete)
    for user in (province.city_qingdao, province.dept_agri, province.alice, province.office):
        with pytest.raises(PermissionDeniedError, match="推荐"):
            services.application_move(application=complete, action="recommend", actor=user, opinion="同意")
    assert snapshot(complete) == before
    services.application_move(
        application=complete, action="recommend", actor=province.county_lixia, opinion="同意"
    )
    complete.refresh_from_db()
    assert complete.status == S.RECOMMENDED


def test_dept_agri_recommends_bobs_tea_but_not_alices_food(province, complete, bob_app):
    fill_in(bob_app, province.bob)
    services.application_submit(actor=province.alice, application=complete)
    services.application_submit(actor=province.bob, application=bob_app)
    with pytest.raises(PermissionDeniedError):
        services.application_move(
            application=complete, action="recommend", actor=province.dept_agri, opinion="同意"
        )
    services.application_move(
        application=bob_app, action="recommend", actor=province.dept_agri, opinion="同意"
    )
    bob_app.refresh_from_db()
    complete.refresh_from_db()
    assert (bob_app.status, complete.status) == (S.RECOMMENDED, S.SUBMITTED)


def test_a_recommendation_is_recommended_only_by_the_unit_that_started_it(province, batch):
    application = services.application_recommend_start(
        actor=province.county_lixia, batch=batch, brand=province.alice_brand
    )
    fill_in(application, province.alice)
    services.application_submit(actor=province.alice, application=application)
    with pytest.raises(PermissionDeniedError):
        services.application_move(
            application=application, action="recommend", actor=province.city_jinan, opinion="可"
        )
    services.application_move(
        application=application, action="recommend", actor=province.county_lixia, opinion="可"
    )


def test_read_only_members_and_platform_admins_do_not_decide(province, complete):
    to(complete, S.RECOMMENDED, province)
    check_manual_criteria(complete, province.office)
    before = snapshot(complete)
    for user in (
        province.office_viewer,
        province.admin,
        province.alice,
        province.city_jinan,
        province.expert,
    ):
        for action in ("qualify", "reject", "return"):
            with pytest.raises(PermissionDeniedError):
                services.application_move(
                    application=complete,
                    action=action,
                    actor=user,
                    opinion="意见",
                    deadline=dt.date(2025, 6, 30),
                )
    assert snapshot(complete) == before
    for user in (province.office_viewer, province.admin, province.city_jinan):
        with pytest.raises(PermissionDeniedError):
            services.application_check_criterion(
                actor=user,
                application=complete,
                criterion=complete.rule_set.criteria.get(code="Z8"),
                met=False,
            )


# --- return, reject, withdraw ----------------------------------------------------------------------


def test_return_needs_an_opinion_and_a_future_deadline(province, complete):
    to(complete, S.QUALIFIED, province)
    before = snapshot(complete)
    with pytest.raises(ValidationFailed, match="请填写意见、整改期限") as missing:
        services.application_move(application=complete, action="return", actor=province.office)
    assert set(missing.value.details) == {"opinion", "deadline"}
    with pytest.raises(ValidationFailed, match="请填写整改期限"):
        services.application_move(
            application=complete, action="return", actor=province.office, opinion="补充"
        )
    for deadline in (NOW.date(), NOW.date() - dt.timedelta(days=1)):
        with pytest.raises(ValidationFailed, match="整改期限须晚于今天") as past:
            services.application_move(
                application=complete,
                action="return",
                actor=province.office,
                opinion="补充",
                deadline=deadline,
            )
        assert past.value.details == {"deadline": "整改期限须晚于今天。"}
    assert snapshot(complete) == before
    returned = services.application_move(
        application=complete,
        action="return",
        actor=province.office,
        opinion="  请补充近三年检测报告  ",
        deadline=dt.date(2025, 5, 30),
    )
    assert returned.status == S.RETURNED and returned.return_deadline == dt.date(2025, 5, 30)
    decision = Decision.objects.filter(application=complete).latest("pk")
    assert decision.opinion == "请补充近三年检测报告" and decision.deadline == dt.date(2025, 5, 30)
    # A returned application climbs the stages again from the start.
    services.application_sign_declaration(actor=province.alice, application=complete, name="李明")
    services.application_submit(actor=province.alice, application=complete)
    complete.refresh_from_db()
    assert complete.status == S.SUBMITTED and complete.return_deadline is None


def test_reject_needs_reasons(province, complete):
    to(complete, S.CHECKED, province)
    with pytest.raises(ValidationFailed, match="请填写意见"):
        services.application_move(application=complete, action="reject", actor=province.office, opinion="   ")
    services.application_move(
        application=complete, action="reject", actor=province.office, opinion="不符合条件"
    )
    complete.refresh_from_db()
    assert complete.status == S.REJECTED


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.RECOMMENDED, S.QUALIFIED, S.CHECKED, S.RETURNED])
def test_withdraw_is_allowed_before_the_expert_review(province, complete, status):
    Application.objects.filter(pk=complete.pk).update(status=status)
    services.application_move(application=complete, action="withdraw", actor=province.alice)
    complete.refresh_from_db()
    assert complete.status == S.WITHDRAWN
    assert audit_count("evaluation.application.moved") == 1


@pytest.mark.parametrize("status", [S.EXPERT_REVIEW, S.REVIEWED, S.CONSULTED, S.APPROVED, S.NOTICE])
def test_withdraw_is_refused_from_the_expert_review_on(province, complete, status):
    Application.objects.filter(pk=complete.pk).update(status=status)
    with pytest.raises(IllegalTransition, match="不能执行“撤回申报”"):
        services.application_move(application=complete, action="withdraw", actor=province.alice)
    complete.refresh_from_db()
    assert complete.status == status


def test_only_the_applicant_withdraws(province, complete):
    for user in (province.alice_viewer, province.bob, province.office, province.city_jinan):
        with pytest.raises(PermissionDeniedError):
            services.application_move(application=complete, action="withdraw", actor=user)
    complete.refresh_from_db()
    assert complete.status == S.DRAFT


# --- eligibility: the facts and the qualification rule ---------------------------------------------


def test_the_facts_the_criteria_read(province, complete):
    values = facts.application_facts(complete)
    # Founded 2010-03-01; the window closes 2025-06-30: 15 full years.
    assert values["years_registered"] == 15
    assert values["revenue"] == Decimal("5000") and values["rd_ratio"] == Decimal("5.00")
    assert (values["national_rank"], values["provincial_rank"]) == (12, 3)
    assert values["credit_clean"] is True and values["inspection_clean"] is True
    assert facts.full_years(dt.date(2020, 7, 1), dt.date(2025, 6, 30)) == 4
    assert facts.full_years(dt.date(2020, 6, 30), dt.date(2025, 6, 30)) == 5
    eligibility = facts.eligibility(complete)
    assert eligibility.verdict is None
    assert eligibility.problems == ["资格条件 Z8“拥有自主品牌和有效注册商标”尚未人工审查"]
    services.application_submit(actor=province.alice, application=complete)
    check_manual_criteria(complete, province.office)
    assert facts.eligibility(complete).met


def test_last_years_figures_decide_revenue_and_rd_ratio(province, alice_app):
    figures = [dict(row) for row in FIGURES]
    figures[2].update(revenue="1500", rd_spend="30")  # 2024: below 2000 万元, R&D 2 %
    complete = fill_in(alice_app, province.alice, figures=figures, founded_on=dt.date(2021, 1, 1))
    outcomes = {o.criterion.code: o for o in facts.eligibility(complete).outcomes}
    assert outcomes["Z1"].met is False and outcomes["Z1"].value == 4
    assert (
        outcomes["Z2"].met is False
        and outcomes["Z2"].explanation == "上年度营业收入（万元） 1500.00，要求 ≥ 2000"
    )
    assert outcomes["Z3"].met is False and outcomes["Z3"].value == Decimal("2.00")


def test_qualify_is_refused_while_an_automatic_criterion_is_not_met(province, alice_app):
    figures = [dict(row) for row in FIGURES]
    figures[2].update(revenue="1500")
    complete = fill_in(alice_app, province.alice, figures=figures)
    to(complete, S.RECOMMENDED, province)
    check_manual_criteria(complete, province.office)
    before = snapshot(complete)
    with pytest.raises(ValidationFailed, match="不能“资格审查通过”") as refused:
        services.application_move(
            application=complete, action="qualify", actor=province.office, opinion="通过"
        )
    assert refused.value.details["problems"] == [
        "资格条件 Z2“上年度营业收入不低于 2000 万元”不满足：上年度营业收入（万元） 1500.00，要求 ≥ 2000"
    ]
    assert snapshot(complete) == before
    # A figure that is present cannot be overruled by the reviewer.
    with pytest.raises(ValidationFailed, match="自动判定"):
        services.application_check_criterion(
            actor=province.office,
            application=complete,
            criterion=complete.rule_set.criteria.get(code="Z2"),
            met=True,
            note="实际已达标",
        )
    services.application_move(
        application=complete, action="reject", actor=province.office, opinion="营业收入不足"
    )


def test_either_rank_satisfies_its_group(province, complete):
    services.application_update(
        actor=province.alice, application=complete, national_rank=None, provincial_rank=9
    )
    complete.refresh_from_db()
    problems = facts.eligibility(complete).problems
    assert any(p.startswith("资格条件 Z4、Z5（满足其一即可）") for p in problems)
    services.application_update(actor=province.alice, application=complete, national_rank=18)
    complete.refresh_from_db()
    assert not any("Z4" in p for p in facts.eligibility(complete).problems)


def test_a_missing_figure_is_overruled_only_with_a_note(province, alice_app):
    complete = fill_in(alice_app, province.alice)
    services.application_update(actor=province.alice, application=complete, credit_clean=None)
    services.application_sign_declaration(actor=province.alice, application=complete, name="李明")
    to(complete, S.RECOMMENDED, province)
    z6 = complete.rule_set.criteria.get(code="Z6")
    check_manual_criteria(complete, province.office)
    with pytest.raises(ValidationFailed, match=r"不能“资格审查通过”.*Z6"):
        services.application_move(
            application=complete, action="qualify", actor=province.office, opinion="通过"
        )
    with pytest.raises(ValidationFailed, match="说明依据"):
        services.application_check_criterion(
            actor=province.office, application=complete, criterion=z6, met=True
        )
    check = services.application_check_criterion(
        actor=province.office, application=complete, criterion=z6, met=True, note="信用中国查询无失信记录"
    )
    assert check.checked_by == province.office
    event = AuditEvent.objects.filter(action="evaluation.application.criterion_checked").latest("seq")
    assert event.new == {"criterion": "Z6", "met": True, "note": "信用中国查询无失信记录"}
    services.application_move(application=complete, action="qualify", actor=province.office, opinion="通过")
    complete.refresh_from_db()
    assert complete.status == S.QUALIFIED
    # After qualification the checks are settled.
    with pytest.raises(ConflictError):
        services.application_check_criterion(
            actor=province.office, application=complete, criterion=z6, met=False
        )
    assert CriterionCheck.objects.get(criterion=z6).met is True


def test_a_manual_criterion_checked_as_not_met_blocks_qualification(province, complete):
    to(complete, S.RECOMMENDED, province)
    z8 = complete.rule_set.criteria.get(code="Z8")
    services.application_check_criterion(
        actor=province.office, application=complete, criterion=z8, met=False, note="商标已过期"
    )
    with pytest.raises(ValidationFailed, match=r"Z8.*不满足：审查人员判定：不满足（商标已过期）"):
        services.application_move(
            application=complete, action="qualify", actor=province.office, opinion="通过"
        )
    other_rule_set_criterion = shared.publish_rule_set(
        province.office, province.cat_food.parent, province.gi_type, "食品地理标志细则"
    ).criteria.first()
    with pytest.raises(ValidationFailed, match="不属于"):
        services.application_check_criterion(
            actor=province.office, application=complete, criterion=other_rule_set_criterion, met=True
        )


# --- veto findings ---------------------------------------------------------------------------------


def test_a_pending_or_confirmed_veto_finding_blocks_the_review(province, complete):
    to(complete, S.RECOMMENDED, province)
    check_manual_criteria(complete, province.office)
    item = complete.rule_set.veto_items.get(code="F2")
    finding = services.veto_raise(
        actor=province.office,
        application=complete,
        veto_item=item,
        note="企业信用信息公示系统显示列入经营异常名录",
    )
    assert finding.status == VetoFinding.Status.RAISED and finding.raised_by == province.office
    assert audit_count("evaluation.veto.raised") == 1
    with pytest.raises(ConflictError, match="正在核实"):
        services.veto_raise(actor=province.office, application=complete, veto_item=item, note="重复")
    with pytest.raises(ValidationFailed, match=r"F2.*尚待核实"):
        services.application_move(
            application=complete, action="qualify", actor=province.office, opinion="通过"
        )
    with pytest.raises(ValidationFailed, match="核实意见"):
        services.veto_resolve(actor=province.office, finding=finding, confirmed=True, resolution="")
    with pytest.raises(PermissionDeniedError):
        services.veto_resolve(
            actor=province.office_viewer, finding=finding, confirmed=False, resolution="不成立"
        )
    services.veto_resolve(actor=province.office, finding=finding, confirmed=True, resolution="经核实属实")
    with pytest.raises(ValidationFailed, match="已核实，应作不予通过处理"):
        services.application_move(
            application=complete, action="qualify", actor=province.office, opinion="通过"
        )
    with pytest.raises(ConflictError, match="已核实"):
        services.veto_resolve(actor=province.office, finding=finding, confirmed=False, resolution="改判")
    services.application_move(
        application=complete, action="reject", actor=province.office, opinion="触及否决项 F2"
    )
    complete.refresh_from_db()
    assert complete.status == S.REJECTED


def test_a_dismissed_finding_no_longer_blocks(province, complete):
    to(complete, S.RECOMMENDED, province)
    check_manual_criteria(complete, province.office)
    finding = services.veto_raise(
        actor=province.office,
        application=complete,
        veto_item=complete.rule_set.veto_items.get(code="F1"),
        note="网络舆情反映质量事故",
    )
    services.veto_resolve(
        actor=province.office, finding=finding, confirmed=False, resolution="经核实与本企业无关"
    )
    services.application_move(application=complete, action="qualify", actor=province.office, opinion="通过")
    finding.refresh_from_db()
    assert finding.status == VetoFinding.Status.DISMISSED and finding.resolved_by == province.office
    event = AuditEvent.objects.get(action="evaluation.veto.resolved")
    assert event.new["status"] == "dismissed"


def test_an_assigned_expert_raises_a_veto_during_the_expert_review(province, complete):
    to(complete, S.EXPERT_REVIEW, province)
    item = complete.rule_set.veto_items.get(code="F4")
    with pytest.raises(NotFoundError):
        services.veto_raise(actor=province.expert, application=complete, veto_item=item, note="材料造假")
    assignment = assign_expert(complete, province.expert, Assignment.Status.INVITED)
    with pytest.raises(NotFoundError):
        services.veto_raise(actor=province.expert, application=complete, veto_item=item, note="材料造假")
    Assignment.objects.filter(pk=assignment.pk).update(status=Assignment.Status.ACCEPTED)
    finding = services.veto_raise(
        actor=province.expert, application=complete, veto_item=item, note="检测报告日期涂改"
    )
    assert finding.raised_by == province.expert
    # Having submitted the scores does not take that right away.
    Assignment.objects.filter(pk=assignment.pk).update(status=Assignment.Status.SUBMITTED)
    services.veto_raise(
        actor=province.expert,
        application=complete,
        veto_item=complete.rule_set.veto_items.get(code="F3"),
        note="2024年省级抽查不合格",
    )
    told = Notification.objects.filter(kind="evaluation.veto.raised")
    assert list(told.values_list("user__username", flat=True)) == ["office", "office"]
    # Other units may see the application but not raise findings.
    with pytest.raises(PermissionDeniedError):
        services.veto_raise(actor=province.city_jinan, application=complete, veto_item=item, note="x")
    # A finding stops the consultation until the office resolves it.
    services.application_move(application=complete, action="complete_review", actor=province.office)
    with pytest.raises(ValidationFailed, match=r"F4.*尚待核实"):
        services.application_move(
            application=complete, action="consult", actor=province.office, opinion="无异议"
        )
    with pytest.raises(ConflictError, match="专家评审期间"):
        services.veto_raise(actor=province.expert, application=complete, veto_item=item, note="再次")


# --- concurrent decisions --------------------------------------------------------------------------


def test_the_second_of_two_decisions_on_the_same_status_gets_a_conflict(province, complete):
    to(complete, S.RECOMMENDED, province)
    check_manual_criteria(complete, province.office)
    stale = Application.objects.get(pk=complete.pk)
    services.application_move(
        application=complete,
        action="qualify",
        actor=province.office,
        opinion="通过",
        expected_status=S.RECOMMENDED,
    )
    before = snapshot(complete)
    with pytest.raises(ConflictError, match="已被他人处理，当前状态为“待舆情与信用核查”") as lost:
        services.application_move(
            application=stale,
            action="reject",
            actor=province.office,
            opinion="不通过",
            expected_status=S.RECOMMENDED,
        )
    assert lost.value.code == "stale_status"
    assert snapshot(complete) == before


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two real connections; SQLite's in-memory test database is one shared connection",
)
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_qualifications_one_fails(province, complete):
    to(complete, S.RECOMMENDED, province)
    check_manual_criteria(complete, province.office)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def decide() -> None:
        try:
            office = User.objects.get(username="office")  # own user object: scopes are cached per object
            barrier.wait()
            services.application_move(
                application=Application.objects.get(pk=complete.pk),
                action="qualify",
                actor=office,
                opinion="符合申报条件",
            )
            results.append("ok")
        except Exception as exc:  # collected for the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 1
    failure = next(r for r in results if r != "ok")
    assert isinstance(failure, IllegalTransition)
    assert "当前状态为“待舆情与信用核查”" in failure.message
    complete.refresh_from_db()
    assert complete.status == S.QUALIFIED
    assert Decision.objects.filter(application=complete, action="qualify").count() == 1


# --- who is told -----------------------------------------------------------------------------------


def test_applicant_members_are_told_every_decision_with_opinion_and_deadline(province, complete):
    services.application_submit(actor=province.alice, application=complete)
    services.application_move(
        application=complete,
        action="return",
        actor=province.city_jinan,
        opinion="请补充检测报告",
        deadline=dt.date(2025, 6, 10),
    )
    notes = Notification.objects.filter(kind="evaluation.application.decided")
    assert set(notes.values_list("user__username", flat=True)) == {"alice", "alice-viewer"}
    note = notes.first()
    assert note.title == f"申报退回修改：泉城（{complete.number}）"
    assert "意见：请补充检测报告" in note.body and "整改期限：2025年6月10日" in note.body
    assert not Notification.objects.filter(user__username__in=["bob", "city-qingdao"]).exists()


def test_the_office_is_told_when_an_application_is_recommended(province, complete):
    to(complete, S.RECOMMENDED, province)
    notes = Notification.objects.filter(kind="evaluation.application.recommended")
    # Writing members only: the read-only office member has nothing to act on.
    assert set(notes.values_list("user__username", flat=True)) == {"office"}
    assert "济南市市场监督管理局已推荐该申报" in notes.get().body
    decided = Notification.objects.filter(kind="evaluation.application.decided", user=province.alice)
    assert decided.count() == 1 and decided.get().title.startswith("申报推荐")
