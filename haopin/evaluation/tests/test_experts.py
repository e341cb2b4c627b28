"""Expert panels: who is in the pool, the reproducible draw, avoidance, spreading the load,
shortfalls, declarations and the promotion of reserves, and what an expert may see.

The builders at the top (a small rule set, a batch in review, applicants, experts) are shared by
``test_scoring`` and ``test_exports``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haopin.accounts.models import ExpertProfile, User
from haopin.core import numbering
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent, Category, Region, Tier
from haopin.evaluation import experts, policies
from haopin.evaluation.models import Application, Assignment, Batch, BatchRuleSet, Decision, PanelDraw
from haopin.notifications.models import Notification
from haopin.registry.models import Brand, Enterprise
from haopin.registry.validation import make_uscc
from haopin.standards import services as standards_services
from haopin.standards.models import RuleSet

A = Assignment.Status
S = Application.Status
_serial = itertools.count(1000)

# --- builders (shared with test_scoring and test_exports) -----------------------------------------


def small_rule_set(office, category, brand_type, *, pass_line=Decimal("60")) -> RuleSet:
    """A published rule set with four leaf indicators (30, 30, 20, 20) and one veto item."""
    rule_set = standards_services.ruleset_create(
        actor=office,
        category=category,
        brand_type=brand_type,
        title=f"{category.name}评价细则",
        pass_line=pass_line,
    )
    add = standards_services.ruleset_item_add
    quality = add(
        actor=office, rule_set=rule_set, kind="indicator", code="1", name="质量", max_score=60, position=1
    )
    add(
        actor=office,
        rule_set=rule_set,
        kind="indicator",
        code="1.1",
        name="质量管理",
        max_score=30,
        parent=quality,
        position=2,
    )
    add(
        actor=office,
        rule_set=rule_set,
        kind="indicator",
        code="1.2",
        name="质量水平",
        max_score=30,
        parent=quality,
        position=3,
    )
    innovation = add(
        actor=office, rule_set=rule_set, kind="indicator", code="2", name="创新", max_score=40, position=4
    )
    add(
        actor=office,
        rule_set=rule_set,
        kind="indicator",
        code="2.1",
        name="研发投入",
        max_score=20,
        parent=innovation,
        position=5,
    )
    add(
        actor=office,
        rule_set=rule_set,
        kind="indicator",
        code="2.2",
        name="创新成果",
        max_score=20,
        parent=innovation,
        position=6,
    )
    add(actor=office, rule_set=rule_set, kind="veto", code="F1", text="申报材料弄虚作假。", position=1)
    return standards_services.ruleset_publish(actor=office, rule_set=rule_set)


def review_batch(rule_sets, *, panel_size=3, reserve_size=1, avoid_same_city=False, sequence=None) -> Batch:
    batch = Batch.objects.create(
        year=2025,
        sequence=sequence or next(_serial),
        title="2025年好品山东品牌评价",
        status=Batch.Status.REVIEWING,
        apply_from=dt.date(2025, 3, 1),
        apply_until=dt.date(2025, 4, 30),
        panel_size=panel_size,
        reserve_size=reserve_size,
        avoid_same_city=avoid_same_city,
    )
    for rule_set in rule_sets:
        BatchRuleSet.objects.create(batch=batch, rule_set=rule_set)
    return batch


def enterprise(region_code="370102", name=None) -> Enterprise:
    serial = next(_serial)
    return Enterprise.objects.create(
        uscc=make_uscc(region_code, serial),
        name=name or f"测试企业{serial}有限公司",
        region=Region.objects.get(code=region_code),
    )


def applicant(
    batch, rule_set, owner=None, *, creator, competitors=(), category=None, status=S.CHECKED
) -> Application:
    owner = owner or enterprise()
    serial = next(_serial)
    brand = Brand.objects.create(
        name=f"品牌{serial}",
        owner=owner,
        brand_type=rule_set.brand_type,
        category=category or rule_set.category,
        region=owner.region,
        tier=Tier.objects.get(code="pool"),
    )
    return Application.objects.create(
        number=numbering.with_check(f"SQ2025{serial:06d}"),
        batch=batch,
        enterprise=owner,
        brand=brand,
        rule_set=rule_set,
        status=status,
        competitors=list(competitors),
        created_by=creator,
    )


def expert(region_code="370200", *, categories, employer_uscc="", name=None) -> ExpertProfile:
    serial = next(_serial)
    user = User.objects.create(username=name or f"expert{serial}", full_name=name or f"专家{serial}")
    profile = ExpertProfile.objects.create(
        user=user,
        employer=f"单位{serial}",
        employer_uscc=employer_uscc,
        region=Region.objects.get(code=region_code),
    )
    profile.specialities.set(categories)
    return profile


def pool(n, *, categories, region_code="370200") -> list[ExpertProfile]:
    return [expert(region_code, categories=categories) for _ in range(n)]


def seats_of(application) -> list[tuple[int, str, int, str]]:
    return list(
        Assignment.objects.filter(application=application)
        .order_by("order")
        .values_list("order", "role", "expert_id", "status")
    )


def drawn_experts(application) -> set[int]:
    return set(Assignment.objects.filter(application=application).values_list("expert_id", flat=True))


@pytest.fixture
def food(province):
    """Processed food (20101), a rule set for it and a batch in review. The persona
    ``province.expert`` is moved to tea so that each test controls the food pool exactly; it stays
    an expert with no assignment here."""
    province.expert.expert_profile.specialities.set([province.cat_tea])
    rule_set = small_rule_set(province.office, province.cat_food, province.product_type)
    batch = review_batch([rule_set])
    return SimpleNamespace(rule_set=rule_set, batch=batch, category=province.cat_food)


# --- who is in the pool ---------------------------------------------------------------------------


def test_pool_takes_the_category_its_subcategories_and_parents_below_industry_level(province):
    food_and_drink = Category.objects.get(code="201")
    ids = experts.speciality_category_ids(food_and_drink)
    codes = set(Category.objects.filter(pk__in=ids).values_list("code", flat=True))
    assert codes == {"201", "20101", "20102", "20103", "20104"}
    ids = experts.speciality_category_ids(province.cat_food)  # 20101 加工食品
    codes = set(Category.objects.filter(pk__in=ids).values_list("code", flat=True))
    assert codes == {"20101", "201"}  # not the sibling 20102 酒类, not the industry "2"


def test_only_matching_active_experts_are_drawn(province, food):
    matching = pool(3, categories=[province.cat_food])
    parent = expert(categories=[Category.objects.get(code="201")])
    sibling = expert(categories=[Category.objects.get(code="20102")])
    industry = expert(categories=[Category.objects.get(code="2")])
    retired = expert(categories=[province.cat_food])
    retired.active = False
    retired.save()
    application = applicant(food.batch, food.rule_set, creator=province.office)
    draw = experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set, seed="s")
    assert drawn_experts(application) == {e.pk for e in [*matching, parent]}
    assert not {sibling.pk, industry.pk, retired.pk} & drawn_experts(application)
    assert draw.shortfalls == []


# --- the draw: rights, moves, audit, refusals -----------------------------------------------------


def test_only_the_office_draws(province, food):
    pool(4, categories=[province.cat_food])
    applicant(food.batch, food.rule_set, creator=province.office)
    for user in (
        province.office_viewer,
        province.city_jinan,
        province.dept_agri,
        province.alice,
        province.expert,
    ):
        with pytest.raises(PermissionDeniedError):
            experts.draw_panels(actor=user, batch=food.batch, rule_set=food.rule_set)
    assert not PanelDraw.objects.exists() and not Assignment.objects.exists()


def test_draw_seats_panels_and_reserves_moves_applications_and_is_audited(province, food):
    team = pool(8, categories=[province.cat_food])
    first = applicant(food.batch, food.rule_set, province.alice_ent, creator=province.office)
    second = applicant(food.batch, food.rule_set, creator=province.office)
    elsewhere = applicant(food.batch, food.rule_set, creator=province.office, status=S.QUALIFIED)
    draw = experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert len(draw.seed) == 32 and draw.panel_size == 3 and draw.reserve_size == 1
    for application in (first, second):
        seats = seats_of(application)
        assert [(order, role, status) for order, role, _, status in seats] == [
            (1, "panel", A.INVITED),
            (2, "panel", A.INVITED),
            (3, "panel", A.INVITED),
            (4, "reserve", A.STANDBY),
        ]
        application.refresh_from_db()
        assert application.status == S.EXPERT_REVIEW
        assert Decision.objects.filter(application=application, action="start_review").count() == 1
    assert not Assignment.objects.filter(application=elsewhere).exists()
    elsewhere.refresh_from_db()
    assert elsewhere.status == S.QUALIFIED
    event = AuditEvent.objects.get(action="evaluation.draw.made")
    assert event.new["seed"] == draw.seed and event.new["applications"] == 2 and event.new["seats"] == 8
    assert event.new["result_digest"] == draw.result_digest
    # The panel experts are told; standby reserves are not (yet).
    invited = set(Assignment.objects.filter(status=A.INVITED).values_list("expert__user_id", flat=True))
    told = set(
        Notification.objects.filter(kind="evaluation.assignment.invited").values_list("user_id", flat=True)
    )
    assert told == invited and len(team) == 8
    # The applicant learns that its application is with the experts (not who they are).
    note = Notification.objects.get(user=province.alice, kind="evaluation.application.decided")
    assert "已进入专家评审" in note.title
    assert Notification.objects.filter(
        user=province.alice_viewer, kind="evaluation.application.decided"
    ).exists()


def test_drawing_again_for_the_same_applications_is_refused(province, food):
    pool(6, categories=[province.cat_food])
    application = applicant(food.batch, food.rule_set, creator=province.office)
    experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    with pytest.raises(ValidationFailed, match="没有待专家评审的申报"):
        experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    # An application back at "checked" that already has a panel is named, and nothing is drawn.
    Application.objects.filter(pk=application.pk).update(status=S.CHECKED)
    late = applicant(food.batch, food.rule_set, creator=province.office)
    with pytest.raises(ConflictError, match=application.number) as caught:
        experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert caught.value.details["applications"] == [application.number]
    assert PanelDraw.objects.count() == 1 and not Assignment.objects.filter(application=late).exists()


def test_draw_needs_a_batch_in_review_and_a_rule_set_of_the_batch(province, food):
    pool(4, categories=[province.cat_food])
    applicant(food.batch, food.rule_set, creator=province.office)
    other = small_rule_set(province.office, province.cat_tea, province.gi_type)
    with pytest.raises(ValidationFailed, match="不是本批次采用的评价细则"):
        experts.draw_panels(actor=province.office, batch=food.batch, rule_set=other)
    Batch.objects.filter(pk=food.batch.pk).update(status=Batch.Status.OPEN)
    with pytest.raises(ConflictError, match="评审中"):
        experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    Batch.objects.filter(pk=food.batch.pk).update(status=Batch.Status.REVIEWING)
    with pytest.raises(ValidationFailed, match="随机种子"):
        experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set, seed="x" * 65)
    assert not PanelDraw.objects.exists()


# --- reproducibility ------------------------------------------------------------------------------


def _inputs(n_pool=30, n_apps=6):
    team = [experts.PoolExpert(pk, "", f"37{pk % 16:02d}") for pk in range(1, n_pool + 1)]
    apps = [experts.Applicant(100 + i, f"SQ{i:04d}", 500 + i, f"U{i}", "3701", ()) for i in range(n_apps)]
    return team, apps


def test_the_same_seed_gives_the_same_panels_and_another_seed_others():
    team, apps = _inputs()
    args = {"panel_size": 3, "reserve_size": 2, "avoid_same_city": True, "pool": team, "applicants": apps}
    one = experts.plan_draw(seed="2025-第3批", **args)
    again = experts.plan_draw(seed="2025-第3批", **args)
    other = experts.plan_draw(seed="2025-第3批 ", **args)
    assert one.seats == again.seats and len(one.seats) == 30
    assert one.seats != other.seats


def test_a_draw_replays_until_the_pool_changes(province, food):
    team = pool(12, categories=[province.cat_food])
    applications = [applicant(food.batch, food.rule_set, creator=province.office) for _ in range(3)]
    draw = experts.draw_panels(
        actor=province.office, batch=food.batch, rule_set=food.rule_set, seed="lottery-7"
    )
    before = {a.pk: seats_of(a) for a in applications}
    assert experts.draw_replay(draw) is True
    assert {a.pk: seats_of(a) for a in applications} == before  # replaying changes nothing

    # What happens after the draw does not change it: a declaration, an expert joining the pool.
    seat = Assignment.objects.filter(draw=draw, status=A.INVITED).first()
    experts.assignment_declare(actor=seat.expert.user, assignment=seat, conflict=True, note="曾任该企业顾问")
    expert(categories=[province.cat_food])
    check = experts.draw_check(draw)
    assert check.result_matches and check.pool_matches

    # A drawn expert leaves the pool: the draw can no longer be reproduced, and it says why.
    drawn = Assignment.objects.filter(draw=draw).values_list("expert_id", flat=True).first()
    ExpertProfile.objects.filter(pk=drawn).update(active=False)
    check = experts.draw_check(draw)
    assert not check.result_matches and not check.pool_matches
    assert experts.draw_replay(draw) is False
    assert len(team) == 12


# --- avoidance ------------------------------------------------------------------------------------


def _exactly_enough(province, food, avoided, *, batch=None, **application):
    """Four eligible experts for a panel of 3 + 1 reserve: every one of them must be drawn, and
    only ``avoided`` stands between the draw and a fifth candidate."""
    eligible = pool(4, categories=[province.cat_food])
    target = applicant(batch or food.batch, food.rule_set, creator=province.office, **application)
    draw = experts.draw_panels(actor=province.office, batch=batch or food.batch, rule_set=food.rule_set)
    assert drawn_experts(target) == {e.pk for e in eligible}
    assert avoided.pk not in drawn_experts(target)
    return target, draw


def _exclusions(draw):
    return (
        AuditEvent.objects.filter(action="evaluation.draw.made", target_id=str(draw.pk))
        .get()
        .new["exclusions"]
    )


def test_never_an_expert_employed_by_the_applicant(province, food):
    owner = enterprise()
    insider = expert(categories=[province.cat_food], employer_uscc=owner.uscc)
    _, draw = _exactly_enough(province, food, insider, owner=owner)
    assert _exclusions(draw) == {"employer": 1}
    assert experts.draw_check(draw).exclusions == {"employer": 1}


def test_never_an_expert_employed_by_a_named_competitor(province, food):
    rival = enterprise("370202")
    outsider = expert(categories=[province.cat_food], employer_uscc=rival.uscc)
    _, draw = _exactly_enough(province, food, outsider, competitors=[rival.uscc.lower(), " "])
    assert _exclusions(draw) == {"competitor": 1}


def test_never_an_expert_from_the_applicants_city_when_the_batch_says_so(province, food):
    food.batch.avoid_same_city = True
    food.batch.save()
    neighbour = expert("370112", categories=[province.cat_food])  # 历城区, 济南 like the applicant
    provincial = expert("370000", categories=[province.cat_food])  # province level: no city
    owner = enterprise("370102")  # 历下区, 济南
    eligible = pool(3, categories=[province.cat_food])
    target = applicant(food.batch, food.rule_set, owner, creator=province.office)
    draw = experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert drawn_experts(target) == {e.pk for e in [*eligible, provincial]}
    assert _exclusions(draw) == {"same_city": 1} and neighbour.pk not in drawn_experts(target)


def test_same_city_experts_may_sit_when_the_batch_allows_it(province, food):
    assert food.batch.avoid_same_city is False
    neighbour = expert("370112", categories=[province.cat_food])
    eligible = pool(3, categories=[province.cat_food])
    target = applicant(food.batch, food.rule_set, enterprise("370102"), creator=province.office)
    experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert drawn_experts(target) == {e.pk for e in [*eligible, neighbour]}


def test_never_an_expert_who_declared_a_conflict_with_the_applicant_in_an_earlier_batch(province, food):
    owner = enterprise()
    team = pool(4, categories=[province.cat_food])
    earlier = applicant(food.batch, food.rule_set, owner, creator=province.office)
    experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    seat = Assignment.objects.get(application=earlier, order=1)
    experts.assignment_declare(
        actor=seat.expert.user, assignment=seat, conflict=True, note="近亲属在该企业任职"
    )
    conflicted = seat.expert

    later_batch = review_batch([food.rule_set])
    others = [e for e in team if e.pk != conflicted.pk]
    newcomer = expert(categories=[province.cat_food])
    target = applicant(later_batch, food.rule_set, owner, creator=province.office)
    draw = experts.draw_panels(actor=province.office, batch=later_batch, rule_set=food.rule_set)
    assert drawn_experts(target) == {e.pk for e in [*others, newcomer]}
    assert _exclusions(draw) == {"declared_conflict": 1}
    # Another applicant is not affected by that conflict.
    assert experts.draw_replay(draw)


# --- spreading the load, shortfalls ----------------------------------------------------------------


def test_the_load_is_spread_evenly(province, food):
    team = pool(10, categories=[province.cat_food])
    for _ in range(10):
        applicant(food.batch, food.rule_set, creator=province.office)
    draw = experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    load = Counter(Assignment.objects.filter(draw=draw).values_list("expert_id", flat=True))
    # 10 applications × 4 seats over 10 experts, fewest seats first: exactly 4 each.
    assert sorted(load.values()) == [4] * 10 and set(load) == {e.pk for e in team}
    assert AuditEvent.objects.get(action="evaluation.draw.made").new["load"] == [4, 4]


@pytest.mark.parametrize("seed", ["a", "b", "c", "d"])
def test_loads_never_differ_by_more_than_one_without_avoidance(seed):
    team = [experts.PoolExpert(pk, "", "3702") for pk in range(1, 24)]
    apps = [experts.Applicant(100 + i, f"SQ{i:03d}", 200 + i, f"U{i}", "3701", ()) for i in range(17)]
    plan = experts.plan_draw(
        seed=seed, panel_size=5, reserve_size=2, avoid_same_city=True, pool=team, applicants=apps
    )
    load = Counter(s.expert_id for s in plan.seats)
    assert len(plan.seats) == 17 * 7 and max(load.values()) - min(load.values()) <= 1
    assert all(len({s.expert_id for s in plan.seats if s.application_id == a.pk}) == 7 for a in apps)


def test_earlier_draws_of_the_batch_count_towards_the_load():
    team = [experts.PoolExpert(pk, "", "3702") for pk in range(1, 7)]
    apps = [experts.Applicant(10 + i, f"SQ{i}", 20 + i, f"U{i}", "3701", ()) for i in range(2)]
    busy = {1: 2, 2: 2, 3: 2}
    plan = experts.plan_draw(
        seed="x",
        panel_size=3,
        reserve_size=0,
        avoid_same_city=False,
        pool=team,
        applicants=apps,
        prior_load=busy,
    )
    # Experts 1–3 already hold two seats each in the batch: the new six go to the other three.
    assert {s.expert_id for s in plan.seats} == {4, 5, 6} and (plan.min_load, plan.max_load) == (2, 2)


def test_avoidance_may_load_one_expert_rather_than_leave_a_seat_empty():
    team = [experts.PoolExpert(1, "", "3702"), *[experts.PoolExpert(pk, "", "3701") for pk in range(2, 5)]]
    apps = [experts.Applicant(10 + i, f"SQ{i}", 20 + i, f"U{i}", "3701", ()) for i in range(3)]
    plan = experts.plan_draw(
        seed="y", panel_size=1, reserve_size=0, avoid_same_city=True, pool=team, applicants=apps
    )
    # Only expert 1 is outside 济南, so every 济南 applicant gets them, however busy.
    assert [s.expert_id for s in plan.seats] == [1, 1, 1] and (plan.min_load, plan.max_load) == (0, 3)
    assert plan.exclusions == {"same_city": 9}


def test_shortfalls_are_recorded_and_reported(province, food):
    food.batch.reserve_size = 2
    food.batch.save()
    pool(3, categories=[province.cat_food])
    owner = enterprise()
    expert(categories=[province.cat_food], employer_uscc=owner.uscc)
    short = applicant(food.batch, food.rule_set, owner, creator=province.office)
    draw = experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert [role for _, role, _, _ in seats_of(short)] == ["panel", "panel", "panel"]
    assert draw.shortfalls == [
        {
            "kind": "draw",
            "application": short.number,
            "id": short.pk,
            "panel": 3,
            "reserve": 0,
            "wanted_panel": 3,
            "wanted_reserve": 2,
            "eligible": 3,
            "excluded": {"employer": 1},
        }
    ]
    event = AuditEvent.objects.get(action="evaluation.draw.made")
    assert event.new["shortfalls"] == [short.number]


def test_an_application_without_any_eligible_expert_is_named_and_replays(province, food):
    owner = enterprise()
    expert(categories=[province.cat_food], employer_uscc=owner.uscc)
    empty = applicant(food.batch, food.rule_set, owner, creator=province.office)
    draw = experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    assert not Assignment.objects.filter(application=empty).exists()
    assert [(s["application"], s["panel"], s["eligible"]) for s in draw.shortfalls] == [(empty.number, 0, 0)]
    assert experts.draw_replay(draw)


# --- declarations, reserves -----------------------------------------------------------------------


@pytest.fixture
def drawn(province, food):
    """One application with a panel of 3 and 2 reserves, drawn from exactly 5 experts."""
    food.batch.reserve_size = 2
    food.batch.save()
    pool(5, categories=[province.cat_food])
    application = applicant(food.batch, food.rule_set, creator=province.office)
    draw = experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    seats = list(
        Assignment.objects.filter(application=application).select_related("expert__user").order_by("order")
    )
    return SimpleNamespace(application=application, draw=draw, seats=seats, **vars(food))


def test_an_expert_sees_only_their_own_invitations_and_the_application_only_after_declaring(province, drawn):
    seat, other, reserve = drawn.seats[0], drawn.seats[1], drawn.seats[3]
    user = seat.expert.user
    assert list(experts.assignment_list_for_expert(user)) == [seat]
    assert list(experts.assignment_list_for_expert(reserve.expert.user)) == []  # standby: not yet called
    assert not policies.can_view(user, drawn.application)
    with pytest.raises(NotFoundError):
        experts.assignment_get_for_expert(user, pk=other.pk)
    with pytest.raises(NotFoundError):
        experts.assignment_declare(actor=user, assignment=other, conflict=False)
    with pytest.raises(NotFoundError):
        experts.assignment_declare(actor=reserve.expert.user, assignment=reserve, conflict=False)
    with pytest.raises(NotFoundError):
        experts.assignment_declare(actor=province.office, assignment=seat, conflict=False)

    experts.assignment_declare(actor=user, assignment=seat, conflict=False)
    seat.refresh_from_db()
    assert seat.status == A.ACCEPTED and seat.declared_at is not None
    assert policies.can_view(user, drawn.application)
    assert not policies.can_view(other.expert.user, drawn.application)
    event = AuditEvent.objects.get(action="evaluation.assignment.declared")
    assert event.old == {"status": "invited"} and event.new["status"] == "accepted"
    with pytest.raises(ConflictError, match="已就申报"):
        experts.assignment_declare(actor=user, assignment=seat, conflict=True, note="x")


def test_a_conflict_needs_a_note(drawn):
    seat = drawn.seats[0]
    with pytest.raises(ValidationFailed) as caught:
        experts.assignment_declare(actor=seat.expert.user, assignment=seat, conflict=True, note="  ")
    assert "note" in caught.value.details
    seat.refresh_from_db()
    assert seat.status == A.INVITED


def test_reserves_are_promoted_in_draw_order_then_the_office_is_told(province, drawn):
    first, second, third, reserve1, reserve2 = drawn.seats
    experts.assignment_declare(
        actor=first.expert.user, assignment=first, conflict=True, note="曾为其提供咨询"
    )
    reserve1.refresh_from_db()
    reserve2.refresh_from_db()
    assert (reserve1.status, reserve2.status) == (A.INVITED, A.STANDBY)
    assert Notification.objects.filter(
        user=reserve1.expert.user, kind="evaluation.assignment.invited"
    ).exists()
    assert list(experts.assignment_list_for_expert(reserve1.expert.user)) == [reserve1]

    experts.assignment_decline(actor=second.expert.user, assignment=second, note="出差")
    reserve2.refresh_from_db()
    assert reserve2.status == A.INVITED
    replaced = AuditEvent.objects.filter(action="evaluation.assignment.replaced").order_by("seq")
    assert [(e.old["assignment"], e.new["assignment"]) for e in replaced] == [
        (first.pk, reserve1.pk),
        (second.pk, reserve2.pk),
    ]

    experts.assignment_decline(actor=third.expert.user, assignment=third)
    drawn.draw.refresh_from_db()
    exhausted = [s for s in drawn.draw.shortfalls if s["kind"] == "reserves_exhausted"]
    assert [(s["application"], s["vacated"]) for s in exhausted] == [(drawn.application.number, third.pk)]
    assert Notification.objects.filter(user=province.office, kind="evaluation.draw.shortfall").exists()
    last = AuditEvent.objects.filter(action="evaluation.assignment.replaced").order_by("-seq").first()
    assert last.new["reason"] == "reserves_exhausted"
    # The recorded shortfall does not disturb the replay of the draw.
    assert experts.draw_replay(drawn.draw)


def test_submitted_or_declined_seats_cannot_be_declined_again(drawn):
    seat = drawn.seats[0]
    experts.assignment_decline(actor=seat.expert.user, assignment=seat)
    with pytest.raises(ConflictError):
        experts.assignment_decline(actor=seat.expert.user, assignment=seat)


def test_a_supplementary_draw_fills_the_empty_seat(province, drawn):
    for seat in drawn.seats[:3]:
        experts.assignment_decline(actor=seat.expert.user, assignment=seat)
    with pytest.raises(PermissionDeniedError):
        experts.draw_supplement(actor=province.city_jinan, application=drawn.application)
    newcomers = pool(3, categories=[province.cat_food])
    supplement = experts.draw_supplement(actor=province.office, application=drawn.application, seed="补抽")
    seats = Assignment.objects.filter(draw=supplement).order_by("order")
    assert [(s.order, s.role, s.status) for s in seats] == [
        (6, "panel", A.INVITED),
        (7, "reserve", A.STANDBY),
        (8, "reserve", A.STANDBY),
    ]
    assert {s.expert_id for s in seats} == {e.pk for e in newcomers}  # never one already on the panel
    assert experts.draw_replay(supplement) and experts.draw_replay(drawn.draw)
    with pytest.raises(ConflictError, match="无需补充抽取"):
        experts.draw_supplement(actor=province.office, application=drawn.application)


# --- cost -----------------------------------------------------------------------------------------


def _draw_queries(province, rule_set, apps: int) -> int:
    batch = review_batch([rule_set])
    for _ in range(apps):
        applicant(batch, rule_set, creator=province.office)
    with CaptureQueriesContext(connection) as queries:
        experts.draw_panels(actor=province.office, batch=batch, rule_set=rule_set)
    return len(queries)


def test_the_draw_costs_the_same_number_of_queries_for_any_number_of_applications(province, food):
    pool(30, categories=[province.cat_food])
    assert _draw_queries(province, food.rule_set, 2) == _draw_queries(province, food.rule_set, 7)


def test_the_assignment_list_is_one_query(province, food, django_assert_num_queries):
    food.batch.reserve_size = 0
    food.batch.save()
    pool(3, categories=[province.cat_food])  # every expert sits on all three panels
    for _ in range(3):
        applicant(food.batch, food.rule_set, creator=province.office)
    experts.draw_panels(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    user = Assignment.objects.filter(status=A.INVITED).first().expert.user
    with django_assert_num_queries(1):
        rows = [
            (
                a.application.number,
                a.application.brand.name,
                a.application.enterprise.region.name,
                a.application.batch.title,
            )
            for a in experts.assignment_list_for_expert(user)
        ]
    assert len(rows) == 3
