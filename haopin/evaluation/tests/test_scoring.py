"""Scoring: the expert's score sheet (ranges, comments, drafts, submission), vetoes raised by
experts, and the aggregation (trimmed mean, dispersion, outliers, ranking with ties, pass line,
quotas per category and per city with ties at the line, refusal while sheets are missing)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent, Category, Region
from haopin.evaluation import experts, scoring
from haopin.evaluation.models import (
    Application,
    Assignment,
    BatchRuleSet,
    Decision,
    Quota,
    Score,
    VetoFinding,
)
from haopin.evaluation.tests.test_experts import (
    applicant,
    enterprise,
    food,
    pool,
    review_batch,
    small_rule_set,
)
from haopin.notifications.models import Notification
from haopin.standards.models import VetoItem

A = Assignment.Status
S = Application.Status
SHARES = {"1.1": Decimal("0.3"), "1.2": Decimal("0.3"), "2.1": Decimal("0.2"), "2.2": Decimal("0.2")}

__all__ = ["food"]  # the fixture, imported for this module's tests


def split(total) -> dict[str, dict[str, str]]:
    """A score sheet of the four-indicator rule set adding up to ``total`` (30/30/20/20 shares)."""
    return {
        code: {"score": str((Decimal(total) * share).quantize(Decimal("0.1"))), "comment": f"{code} 评语"}
        for code, share in SHARES.items()
    }


def accept_all(application) -> list[Assignment]:
    seats = list(
        Assignment.objects.filter(application=application, status=A.INVITED)
        .select_related("expert__user")
        .order_by("order")
    )
    for seat in seats:
        experts.assignment_declare(actor=seat.expert.user, assignment=seat, conflict=False)
        seat.refresh_from_db()
    return seats


def submit(seat, sheet) -> None:
    scoring.scores_save(actor=seat.expert.user, assignment=seat, scores=sheet)
    scoring.scores_submit(actor=seat.expert.user, assignment=seat)


def score_all(application, totals) -> list[Assignment]:
    seats = accept_all(application)
    assert len(seats) == len(totals)
    for seat, total in zip(seats, totals, strict=True):
        submit(seat, split(total))
    return seats


def drawn_world(province, food, *, panel, reserve=0, apps=1, owners=None):
    food.batch.panel_size, food.batch.reserve_size = panel, reserve
    food.batch.save()
    pool(panel + reserve, categories=[province.cat_food])
    owners = owners or [None] * apps
    applications = [applicant(food.batch, food.rule_set, owner, creator=province.office) for owner in owners]
    experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    return applications


def refreshed(application) -> Application:
    application.refresh_from_db()
    return application


# --- the score sheet ------------------------------------------------------------------------------


@pytest.fixture
def seat(province, food):
    (application,) = drawn_world(province, food, panel=3)
    seats = accept_all(application)
    return seats[0]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"score": "-1", "comment": "差"}, "0 至 30 之间"),
        ({"score": "30.5", "comment": "超出"}, "0 至 30 之间"),
        ({"score": "12.34", "comment": "两位小数"}, "一位小数"),
        ({"score": "十二", "comment": "不是数字"}, "请填写 0 至 30"),
        ({"score": "12", "comment": "  "}, "请填写评语"),
        ({"score": "12"}, "请填写评语"),
    ],
)
def test_scores_outside_the_range_or_without_a_comment_are_refused(seat, entry, message):
    good = {"score": "20", "comment": "良好"}
    with pytest.raises(ValidationFailed, match=message) as caught:
        scoring.scores_save(actor=seat.expert.user, assignment=seat, scores={"1.2": good, "1.1": entry})
    assert set(caught.value.details) == {"1.1"}
    assert not Score.objects.exists()  # all or nothing


def test_indicators_of_other_rule_sets_or_dimensions_are_refused(seat):
    for code in ("9.9", "1"):  # unknown; a first-level dimension is not scored directly
        with pytest.raises(ValidationFailed, match="不属于本申报适用的评价细则"):
            scoring.scores_save(
                actor=seat.expert.user, assignment=seat, scores={code: {"score": "1", "comment": "x"}}
            )
    assert not Score.objects.exists()


def test_drafts_are_saved_and_submission_needs_every_indicator_then_locks(seat):
    user = seat.expert.user
    scoring.scores_save(actor=user, assignment=seat, scores={"1.1": {"score": "25", "comment": "体系完善"}})
    scoring.scores_save(
        actor=user, assignment=seat, scores={"1.1": {"score": "26.5", "comment": "体系完善，有认证"}}
    )
    assert list(Score.objects.values_list("score", "comment")) == [(Decimal("26.5"), "体系完善，有认证")]
    with pytest.raises(ValidationFailed, match="尚有 3 项指标未评分") as caught:
        scoring.scores_submit(actor=user, assignment=seat)
    assert set(caught.value.details) == {"1.2", "2.1", "2.2"}
    seat.refresh_from_db()
    assert (
        seat.status == A.ACCEPTED
        and not AuditEvent.objects.filter(action="evaluation.scores.submitted").exists()
    )

    sheet = split(80)
    del sheet["1.1"]
    scoring.scores_save(actor=user, assignment=seat, scores=sheet)
    scoring.scores_submit(actor=user, assignment=seat)
    seat.refresh_from_db()
    assert seat.status == A.SUBMITTED and seat.submitted_at is not None
    event = AuditEvent.objects.get(action="evaluation.scores.submitted")
    assert event.new["total"] == "82.5"  # 26.5 + 24 + 16 + 16
    assert event.new["scores"]["1.1"] == ["26.5", "体系完善，有认证"]

    with pytest.raises(ConflictError, match="已提交"):
        scoring.scores_save(actor=user, assignment=seat, scores={"1.1": {"score": "1", "comment": "改分"}})
    with pytest.raises(ConflictError, match="已提交"):
        scoring.scores_submit(actor=user, assignment=seat)
    assert Score.objects.get(indicator__code="1.1").score == Decimal("26.5")


def test_the_expert_reads_back_their_own_draft(province, food, seat):
    scoring.scores_save(
        actor=seat.expert.user, assignment=seat, scores={"2.1": {"score": "15", "comment": "投入稳定"}}
    )
    assignment, rows = scoring.expert_sheet(seat.expert.user, seat.pk)
    assert assignment == seat
    assert [(indicator.code, row and (row.score, row.comment)) for indicator, row in rows] == [
        ("1.1", None),
        ("1.2", None),
        ("2.1", (Decimal("15.0"), "投入稳定")),
        ("2.2", None),
    ]
    with pytest.raises(NotFoundError):
        scoring.expert_sheet(province.expert, seat.pk)


def test_an_expert_scores_only_after_declaring_and_only_their_own_seat(province, food):
    food.batch.reserve_size = 1
    food.batch.save()
    (application,) = drawn_world(province, food, panel=3, reserve=1)
    seats = list(
        Assignment.objects.filter(application=application).select_related("expert__user").order_by("order")
    )
    invited, other, _, reserve = seats
    sheet = split(70)
    with pytest.raises(PermissionDeniedError, match="请先声明"):
        scoring.scores_save(actor=invited.expert.user, assignment=invited, scores=sheet)
    with pytest.raises(PermissionDeniedError, match="请先声明"):
        scoring.expert_sheet(invited.expert.user, invited.pk)
    with pytest.raises(NotFoundError):  # someone else's seat
        scoring.scores_save(actor=other.expert.user, assignment=invited, scores=sheet)
    with pytest.raises(NotFoundError):  # an expert with no seat at all
        scoring.scores_save(actor=province.expert, assignment=invited, scores=sheet)
    with pytest.raises(NotFoundError):  # a standby reserve
        scoring.scores_save(actor=reserve.expert.user, assignment=reserve, scores=sheet)
    with pytest.raises(NotFoundError):  # the office does not score
        scoring.scores_save(actor=province.office, assignment=invited, scores=sheet)
    experts.assignment_declare(actor=other.expert.user, assignment=other, conflict=True, note="利益相关")
    with pytest.raises(PermissionDeniedError, match="不在该申报的评审组"):
        scoring.scores_save(actor=other.expert.user, assignment=other, scores=sheet)
    assert not Score.objects.exists()


def test_an_expert_raises_a_veto_item_with_evidence(province, food, seat):
    veto = VetoItem.objects.get(rule_set=food.rule_set, code="F1")
    finding = scoring.expert_veto_raise(
        actor=seat.expert.user, assignment=seat, veto_item=veto, note="检测报告与抽检记录不符"
    )
    assert isinstance(finding, VetoFinding) and finding.raised_by == seat.expert.user
    assert AuditEvent.objects.filter(action="evaluation.veto.raised").count() == 1
    foreign = small_rule_set(province.office, province.cat_tea, province.gi_type)
    with pytest.raises(ValidationFailed, match="不属于本申报"):
        scoring.expert_veto_raise(
            actor=seat.expert.user, assignment=seat, veto_item=foreign.veto_items.get(), note="x"
        )


def test_an_invited_expert_cannot_raise_a_veto(province, food):
    (application,) = drawn_world(province, food, panel=3)
    seat = Assignment.objects.filter(application=application).select_related("expert__user").first()
    veto = VetoItem.objects.get(rule_set=food.rule_set, code="F1")
    with pytest.raises(PermissionDeniedError):
        scoring.expert_veto_raise(actor=seat.expert.user, assignment=seat, veto_item=veto, note="x")
    assert not VetoFinding.objects.exists()


# --- the arithmetic -------------------------------------------------------------------------------


def test_trimmed_mean_drops_highest_and_lowest_from_five_experts_on():
    four = [Decimal(v) for v in ("10", "20", "30", "41")]
    five = [Decimal(v) for v in ("10", "20", "30", "40", "100")]
    assert scoring.trimmed_mean(four) == Decimal("25.25")
    assert scoring.trimmed_mean(five) == Decimal("30")
    seven = [Decimal(v) for v in ("5", "5", "6", "7", "8", "9", "9")]
    assert scoring.trimmed_mean(seven) == Decimal("7")  # drops one 5 and one 9 only


def test_competition_ranks_share_places():
    totals = {1: Decimal("80"), 2: Decimal("75"), 3: Decimal("75"), 4: Decimal("70"), 5: Decimal("80")}
    assert scoring.competition_ranks(totals) == {1: 1, 5: 1, 2: 3, 3: 3, 4: 5}


# --- aggregation ----------------------------------------------------------------------------------


def test_aggregation_with_five_experts_trims_and_flags_an_outlier(province, food):
    (application,) = drawn_world(province, food, panel=5, owners=[province.alice_ent])
    seats = score_all(application, [70, 71, 72, 73, 90])
    result = scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    application = refreshed(application)
    # Per indicator the 70 and 90 sheets are dropped: means of 71, 72, 73 → total 72.00.
    assert application.score_total == Decimal("72.00")
    assert application.score_spread == Decimal("7.47")  # pstdev(70, 71, 72, 73, 90) = √55.76
    assert (application.rank, application.passed, application.within_quota, application.quota_tie) == (
        1,
        True,
        True,
        False,
    )
    assert application.status == S.REVIEWED
    assert Decision.objects.filter(application=application, action="complete_review").count() == 1
    assert result.outliers == {application.number: [seats[4].pk]}
    event = AuditEvent.objects.get(action="evaluation.scores.aggregated")
    assert event.new["outliers"] == {application.number: [seats[4].pk]} and event.new["applications"] == 1
    titles = Notification.objects.filter(user=province.alice).values_list("title", flat=True)
    assert any("专家评审已完成" in title for title in titles)
    assert not any("72" in title for title in titles)  # no score before the notice


def test_aggregation_with_four_experts_averages_every_sheet(province, food):
    (application,) = drawn_world(province, food, panel=4)
    sheets = [split(60), split(70), split(80), split(91)]
    sheets[3]["2.2"] = {"score": "18.3", "comment": "成果突出"}  # 91 → 91.1, and 15.075 below
    for seat, sheet in zip(accept_all(application), sheets, strict=True):
        submit(seat, sheet)
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    application = refreshed(application)
    # 1.1 and 1.2: (18 + 21 + 24 + 27.3) / 4 = 22.575 → 22.58; 2.1: 60.2 / 4 = 15.05;
    # 2.2: (12 + 14 + 16 + 18.3) / 4 = 15.075 → 15.08 (half up); total 75.29.
    assert application.score_total == Decimal("75.29")
    assert application.rank == 1 and application.passed is True


def test_aggregation_is_refused_while_sheets_are_missing(province, food):
    done, pending = drawn_world(province, food, panel=3, apps=2)
    score_all(done, [80, 80, 80])
    seats = accept_all(pending)
    submit(seats[0], split(70))
    with pytest.raises(ValidationFailed, match=pending.number) as caught:
        scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert caught.value.details["applications"] == {pending.number: "已提交 1/3 份"}
    assert done.number not in caught.value.message
    for application in (done, pending):
        application = refreshed(application)
        assert application.status == S.EXPERT_REVIEW and application.score_total is None
    assert not AuditEvent.objects.filter(action="evaluation.scores.aggregated").exists()


def test_only_the_office_aggregates_and_twice_is_refused(province, food):
    (application,) = drawn_world(province, food, panel=3)
    score_all(application, [80, 80, 80])
    for user in (province.office_viewer, province.city_jinan, province.alice, province.expert):
        with pytest.raises(PermissionDeniedError):
            scoring.aggregate(actor=user, batch=food.batch, rule_set=food.rule_set)
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    with pytest.raises(ValidationFailed, match="没有待汇总的申报"):
        scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)


def test_the_office_is_told_when_every_sheet_is_in(province, food):
    (application,) = drawn_world(province, food, panel=3)
    seats = accept_all(application)
    for seat in seats[:2]:
        submit(seat, split(75))
    assert not Notification.objects.filter(kind="evaluation.scores.complete").exists()
    submit(seats[2], split(75))
    assert Notification.objects.filter(user=province.office, kind="evaluation.scores.complete").count() == 1


def test_ties_share_a_rank_and_are_shown_by_dispersion_then_number(province, food):
    top, even, spread, low, failing = drawn_world(province, food, panel=3, apps=5)
    score_all(top, [80, 80, 80])
    score_all(even, [75, 75, 75])
    score_all(spread, [70, 75, 80])
    score_all(low, [65, 65, 65])
    score_all(failing, [50, 60, 61])
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    rows = list(scoring.ranking(food.batch, food.rule_set))
    assert [(a.pk, a.rank, a.score_total, a.passed) for a in rows] == [
        (top.pk, 1, Decimal("80.00"), True),
        (even.pk, 2, Decimal("75.00"), True),
        (spread.pk, 2, Decimal("75.00"), True),
        (low.pk, 4, Decimal("65.00"), True),
        (failing.pk, 5, Decimal("57.00"), False),
    ]
    assert rows[2].score_spread == Decimal("4.08")
    assert rows[4].within_quota is False  # below the pass line: never admitted


# --- quotas ---------------------------------------------------------------------------------------


def test_a_category_quota_admits_in_order_and_leaves_a_tie_at_the_line_to_the_office(province, food):
    # The quota is on 食品饮料 (201); the brands are in its sub-category 加工食品.
    Quota.objects.create(batch=food.batch, category=Category.objects.get(code="201"), limit=2)
    first, tied_a, tied_b, fourth = drawn_world(province, food, panel=3, apps=4)
    score_all(first, [90, 90, 90])
    score_all(tied_a, [85, 85, 85])
    score_all(tied_b, [80, 85, 90])
    score_all(fourth, [80, 80, 80])
    result = scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    states = {a.pk: (a.within_quota, a.quota_tie) for a in map(refreshed, (first, tied_a, tied_b, fourth))}
    assert states == {
        first.pk: (True, False),
        tied_a.pk: (None, True),
        tied_b.pk: (None, True),
        fourth.pk: (False, False),  # the last place is held for the tied pair
    }
    assert result.ties == sorted([tied_a.number, tied_b.number])

    with pytest.raises(PermissionDeniedError):
        scoring.quota_decide(actor=province.office_viewer, application=tied_a, admit=True, reason="x")
    with pytest.raises(ValidationFailed, match="裁定理由"):
        scoring.quota_decide(actor=province.office, application=tied_a, admit=True, reason=" ")
    scoring.quota_decide(actor=province.office, application=tied_a, admit=True, reason="质量维度得分更高")
    with pytest.raises(ValidationFailed, match="食品饮料类别名额已满"):
        scoring.quota_decide(actor=province.office, application=tied_b, admit=True, reason="同分")
    scoring.quota_decide(
        actor=province.office, application=tied_b, admit=False, reason="名额已由同分申报占用"
    )
    with pytest.raises(ConflictError, match="已经裁定"):
        scoring.quota_decide(actor=province.office, application=tied_b, admit=True, reason="改判")
    with pytest.raises(ConflictError, match="不在名额线同分待定之列"):
        scoring.quota_decide(actor=province.office, application=first, admit=True, reason="x")
    assert (refreshed(tied_a).within_quota, refreshed(tied_b).within_quota) == (True, False)
    decided = AuditEvent.objects.filter(action="evaluation.quota.decided").order_by("seq")
    assert [(e.target_id, e.new["within_quota"]) for e in decided] == [
        (str(tied_a.pk), True),
        (str(tied_b.pk), False),
    ]


def test_a_city_quota_spans_categories_and_is_reallocated_batch_wide(province, food):
    jinan = Region.objects.get(code="370100")
    Quota.objects.create(batch=food.batch, city=jinan, limit=1)
    in_jinan, in_qingdao, jinan_second = drawn_world(
        province,
        food,
        panel=3,
        apps=3,
        owners=[enterprise("370102"), enterprise("370212"), enterprise("370112")],
    )
    score_all(in_jinan, [90, 90, 90])
    score_all(in_qingdao, [85, 85, 85])
    score_all(jinan_second, [88, 88, 88])
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert [refreshed(a).within_quota for a in (in_jinan, in_qingdao, jinan_second)] == [True, True, False]

    # A tea application from 济南 outscores them later: the city's single place moves to it.
    tea_rules = small_rule_set(province.office, province.cat_tea, province.gi_type)
    BatchRuleSet.objects.create(batch=food.batch, rule_set=tea_rules)
    pool(3, categories=[province.cat_tea], region_code="370600")
    tea = applicant(food.batch, tea_rules, enterprise("370103"), creator=province.office)
    experts.draw_panels(actor=province.office, batch=food.batch, rule_set=tea_rules)
    score_all(tea, [95, 95, 95])
    result = scoring.aggregate(actor=province.office, batch=food.batch, rule_set=tea_rules)
    assert refreshed(tea).within_quota is True and refreshed(tea).rank == 1
    assert refreshed(in_jinan).within_quota is False and refreshed(in_jinan).rank == 1  # its own category
    assert refreshed(in_qingdao).within_quota is True
    assert result.quota_changes == [in_jinan.number]


def test_a_tie_at_a_city_line(province, food):
    Quota.objects.create(batch=food.batch, city=Region.objects.get(code="370100"), limit=1)
    one, two = drawn_world(
        province, food, panel=3, apps=2, owners=[enterprise("370102"), enterprise("370112")]
    )
    score_all(one, [88, 88, 88])
    score_all(two, [86, 88, 90])
    result = scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert [(refreshed(a).within_quota, refreshed(a).quota_tie) for a in (one, two)] == [
        (None, True),
        (None, True),
    ]
    assert result.ties == sorted([one.number, two.number])
    scoring.quota_decide(actor=province.office, application=two, admit=True, reason="抽签")
    with pytest.raises(ValidationFailed, match="济南市名额已满"):
        scoring.quota_decide(actor=province.office, application=one, admit=True, reason="x")


def test_a_decision_at_the_line_survives_a_later_aggregation_while_still_tied(province, food):
    Quota.objects.create(batch=food.batch, category=food.category, limit=1)
    one, two = drawn_world(province, food, panel=3, apps=2)
    score_all(one, [80, 80, 80])
    score_all(two, [80, 80, 80])
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    scoring.quota_decide(actor=province.office, application=one, admit=True, reason="抽签")
    # A late application of the same rule set, below the line, is drawn and aggregated.
    pool(3, categories=[province.cat_food])
    late = applicant(food.batch, food.rule_set, creator=province.office)
    experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    score_all(late, [70, 70, 70])
    result = scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert (refreshed(one).within_quota, refreshed(one).quota_tie) == (True, True)
    assert (refreshed(two).within_quota, refreshed(two).quota_tie) == (None, True)
    assert refreshed(late).within_quota is False and refreshed(late).rank == 3
    assert result.cleared_decisions == []


def test_aggregation_costs_the_same_number_of_queries_for_any_number_of_applications(province, food):
    counts = []
    for apps in (1, 4):
        batch = review_batch([food.rule_set])
        pool(3, categories=[province.cat_food])
        applications = [applicant(batch, food.rule_set, creator=province.office) for _ in range(apps)]
        experts.draw_panels(actor=province.office, batch=batch, rule_set=food.rule_set)
        for application in applications:
            score_all(application, [70, 75, 80])
        with CaptureQueriesContext(connection) as queries:
            scoring.aggregate(actor=province.office, batch=batch, rule_set=food.rule_set)
        counts.append(len(queries))
    assert counts[0] == counts[1]
