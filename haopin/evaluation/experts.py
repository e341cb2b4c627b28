"""Expert panels: the reproducible draw with avoidance, conflict-of-interest declarations, the
promotion of reserves, and each expert's own list of assignments (DOMAIN.md: 专家库 / 随机抽取 /
回避).

The draw
--------
``draw_panels`` draws, for every application of a batch bound to one rule set and waiting for the
expert review (``checked``), ``panel_size`` panel experts and ``reserve_size`` reserves.

*Who is in the pool.* Active experts (with an active account) whose specialities include the rule
set's category, a category below it (an expert on 加工食品 may judge a rule set written for 食品饮料
as a whole) or a category above it up to, but excluding, the industry level (an expert on 食品饮料
knows 加工食品; "第二产业" as a speciality is too broad to count). Siblings do not count: a
brewer does not judge dairy. Experts who joined the pool after the draw are not part of it, so that
later additions do not change a replay.

*Avoidance* (回避), per application, each excluded candidate counted under the first reason that
applies, in this order: ``employer`` (the expert's employer has the applicant's credit code),
``competitor`` (the employer is one of the competitors named in the application), ``declared_conflict``
(the expert declared a conflict for this applicant before, in any batch), ``same_city`` (the batch
avoids experts from the applicant's city; experts registered at province level have no city) and
``already_assigned`` (a supplementary draw never draws an expert already on the application's
panel). The totals per reason — candidate pairs (application × expert) excluded — are part of the
draw's audit event and of ``draw_check``.

*Spreading the load.* Every seat (panel or reserve) counts as load, including seats from earlier
draws of the same batch. Each application takes eligible experts with the fewest seats so far,
chosen uniformly at random among those with that load (a partial Fisher–Yates shuffle over each
load level in turn). Loads therefore never differ by more than one seat across the pool, except
where avoidance leaves an application only busier experts; the draw records the lowest and the
highest load it left.

*Reproducibility.* The seed (given by the office, e.g. from a public lottery, or 128 random bits)
is recorded with the parameters. The pool is ordered by expert id and the applications by
number; the only randomness is ``random.Random(seed).random()``, whose sequence Python
guarantees to be the same across versions (``randrange`` and ``shuffle`` are not guaranteed, so
they are not used). Recomputing the draw from the recorded seed over the same pool gives the same
seats: ``draw_replay`` compares the digests, and ``draw_check`` says whether the pool changed.

*Shortfalls.* When fewer eligible experts exist than seats, the application gets those there are
and the shortfall is recorded on the draw (``PanelDraw.shortfalls``, kind ``draw``) and in the
audit event; the office then runs ``draw_supplement`` for it once experts are available.

*Moving the applications.* A draw moves its applications to the expert review (and an
aggregation moves them on) all at once through ``move_together``: the same transition table and
checks as ``services.application_move``, and for each application the same ``Decision`` and audit
event, written in bulk (one application at a time costs eight queries each, 15–20 s for a batch
of 2,000). The applicants' members are told in one notification each.

Declarations
------------
An expert sees the applications assigned to them (never standby reserves) and must declare no
conflict of interest before the application becomes visible (``policies.applications_for_user``).
Declaring a conflict or declining promotes the next reserve in draw order (standby → invited),
audited as ``evaluation.assignment.replaced`` and notified; when no reserve is left the shortfall
is recorded on the draw (kind ``reserves_exhausted``) and the office is notified.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from haopin.accounts.models import ExpertProfile, User
from haopin.core import audit
from haopin.core.bulk import bulk_insert
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import Category, Region
from haopin.core.policies import scope_of
from haopin.core.workflow import IllegalTransition
from haopin.evaluation import policies
from haopin.evaluation.models import Application, Assignment, Batch, BatchRuleSet, Decision, PanelDraw
from haopin.evaluation.workflow import APPLICATION_TRANSITIONS
from haopin.notifications import links
from haopin.notifications import selectors as recipients
from haopin.notifications.services import notify
from haopin.standards.models import RuleSet

A = Assignment.Status
ACTIVE = (A.INVITED, A.ACCEPTED, A.SUBMITTED)
REASONS = {
    "employer": "专家工作单位为申报单位",
    "competitor": "专家工作单位为申报单位的竞争对手",
    "declared_conflict": "专家曾声明与申报单位存在利益冲突",
    "same_city": "专家与申报单位同城",
    "already_assigned": "专家已在该申报的评审组中",
}
SEED_MAX = 64


# --- who is in the pool ---------------------------------------------------------------------------


def speciality_category_ids(category: Category) -> set[int]:
    """The categories whose experts may judge rule sets of ``category`` (see the module doc)."""
    rows = list(Category.objects.values_list("pk", "parent_id", "level"))
    parent = {pk: parent_id for pk, parent_id, _ in rows}
    level = {pk: lvl for pk, _, lvl in rows}
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id, _ in rows:
        if parent_id is not None:
            children[parent_id].append(pk)
    ids = {category.pk}
    up = parent.get(category.pk)
    while up is not None and level.get(up, 1) >= 2:
        ids.add(up)
        up = parent.get(up)
    stack = [category.pk]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in ids:
                ids.add(child)
                stack.append(child)
    return ids


def city_of(region_code: str | None, region_level: str | None = None) -> str:
    """The GB/T 2260 city prefix of a region ('' for the province itself)."""
    if not region_code or region_level == Region.Level.PROVINCE or region_code.endswith("0000"):
        return ""
    return region_code[:4]


# --- the draw, as a pure computation --------------------------------------------------------------


@dataclass(frozen=True)
class PoolExpert:
    pk: int
    uscc: str
    city: str


@dataclass(frozen=True)
class Applicant:
    pk: int
    number: str
    enterprise_id: int
    uscc: str
    city: str
    competitors: tuple[str, ...]


@dataclass(frozen=True)
class Seat:
    application_id: int
    expert_id: int
    role: str
    order: int


@dataclass
class Plan:
    seats: list[Seat]
    shortfalls: list[dict[str, Any]]
    exclusions: dict[str, int]
    min_load: int
    max_load: int


def plan_draw(
    *,
    seed: str,
    panel_size: int,
    reserve_size: int,
    avoid_same_city: bool,
    pool: Sequence[PoolExpert],
    applicants: Sequence[Applicant],
    conflicts: Iterable[tuple[int, int]] = (),
    prior_load: dict[int, int] | None = None,
    taken: dict[int, set[int]] | None = None,
    first_order: dict[int, int] | None = None,
) -> Plan:
    """Draw the seats (deterministic in its arguments; see the module doc for the rules).

    ``conflicts`` are (expert id, enterprise id) pairs; ``prior_load`` the seats each expert holds
    from earlier draws of the batch; ``taken`` the experts already on each application's panel and
    ``first_order`` the last draw order used for it (supplementary draws).
    """
    rng = random.Random(seed)
    prior_load = prior_load or {}
    taken = taken or {}
    first_order = first_order or {}
    want = panel_size + reserve_size
    size = len(pool)
    index_of = {expert.pk: i for i, expert in enumerate(pool)}
    by_uscc: dict[str, list[int]] = defaultdict(list)
    by_city: dict[str, list[int]] = defaultdict(list)
    for i, expert in enumerate(pool):
        if expert.uscc:
            by_uscc[expert.uscc].append(i)
        if expert.city:
            by_city[expert.city].append(i)
    conflicted: dict[int, list[int]] = defaultdict(list)
    for expert_id, enterprise_id in sorted(set(conflicts)):
        if expert_id in index_of:
            conflicted[enterprise_id].append(index_of[expert_id])

    # Experts grouped by load; ``where[i]`` is expert i's position in its level's list, so that
    # moving it up a level is a swap with the last element.
    load = [prior_load.get(expert.pk, 0) for expert in pool]
    levels: dict[int, list[int]] = defaultdict(list)
    where = [0] * size
    for i in range(size):
        where[i] = len(levels[load[i]])
        levels[load[i]].append(i)

    seats: list[Seat] = []
    shortfalls: list[dict[str, Any]] = []
    exclusions: Counter[str] = Counter()
    for applicant in applicants:
        excluded: dict[int, str] = {}
        for i in by_uscc.get(applicant.uscc, ()):
            excluded.setdefault(i, "employer")
        for code in applicant.competitors:
            for i in by_uscc.get(code, ()):
                excluded.setdefault(i, "competitor")
        for i in conflicted.get(applicant.enterprise_id, ()):
            excluded.setdefault(i, "declared_conflict")
        if avoid_same_city and applicant.city:
            for i in by_city.get(applicant.city, ()):
                excluded.setdefault(i, "same_city")
        for expert_id in sorted(taken.get(applicant.pk, ())):
            if expert_id in index_of:
                excluded.setdefault(index_of[expert_id], "already_assigned")
        reasons = Counter(excluded.values())
        exclusions.update(reasons)

        chosen: list[int] = []
        for level in sorted(levels):
            members = levels[level]
            # A partial Fisher–Yates shuffle: the first k positions are a uniform random sample
            # of the level, whatever order earlier applications left it in.
            n, k = len(members), 0
            while len(chosen) < want and k < n:
                j = k + int(rng.random() * (n - k))
                if j != k:
                    a, b = members[k], members[j]
                    members[k], members[j] = b, a
                    where[b], where[a] = k, j
                candidate = members[k]
                k += 1
                if candidate not in excluded:
                    chosen.append(candidate)
            if len(chosen) == want:
                break

        base = first_order.get(applicant.pk, 0)
        for position, i in enumerate(chosen):
            role = Assignment.Role.PANEL if position < panel_size else Assignment.Role.RESERVE
            seats.append(Seat(applicant.pk, pool[i].pk, role, base + position + 1))
            members = levels[load[i]]
            last = members.pop()
            if last != i:
                members[where[i]] = last
                where[last] = where[i]
            if not members:
                del levels[load[i]]
            load[i] += 1
            where[i] = len(levels[load[i]])
            levels[load[i]].append(i)
        if len(chosen) < want:
            shortfalls.append(
                {
                    "kind": "draw",
                    "application": applicant.number,
                    "id": applicant.pk,
                    "panel": min(len(chosen), panel_size),
                    "reserve": max(len(chosen) - panel_size, 0),
                    "wanted_panel": panel_size,
                    "wanted_reserve": reserve_size,
                    "eligible": size - len(excluded),
                    "excluded": dict(sorted(reasons.items())),
                }
            )
    return Plan(
        seats, shortfalls, dict(sorted(exclusions.items())), min(load, default=0), max(load, default=0)
    )


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def pool_digest(
    pool: Sequence[PoolExpert], prior_load: dict[int, int], conflicts: Iterable[tuple[int, int]]
) -> str:
    """Everything about the experts that the draw depended on."""
    return _digest(
        {
            "pool": [[e.pk, e.uscc, e.city, prior_load.get(e.pk, 0)] for e in pool],
            "conflicts": sorted([list(pair) for pair in set(conflicts)]),
        }
    )


def result_digest(draw: PanelDraw, applicants: Sequence[Applicant], seats: Iterable[Seat]) -> str:
    numbers = {a.pk: a.number for a in applicants}
    rows = sorted([numbers[s.application_id], s.order, s.role, s.expert_id] for s in seats)
    return _digest(
        {
            "seed": draw.seed,
            "panel_size": draw.panel_size,
            "reserve_size": draw.reserve_size,
            "avoid_same_city": draw.avoid_same_city,
            "applications": [a.number for a in applicants],
            "seats": rows,
        }
    )


# --- the inputs of a draw, read from the database --------------------------------------------------


@dataclass
class Inputs:
    pool: list[PoolExpert]
    applicants: list[Applicant]
    conflicts: set[tuple[int, int]]
    prior_load: dict[int, int]
    taken: dict[int, set[int]]
    first_order: dict[int, int]


def _pool(draw: PanelDraw) -> list[PoolExpert]:
    categories = speciality_category_ids(draw.rule_set.category)
    rows = (
        ExpertProfile.objects.filter(
            active=True,
            user__is_active=True,
            specialities__in=categories,
            created_at__lte=draw.created_at,
        )
        .values_list("pk", "employer_uscc", "region__code", "region__level")
        .distinct()
        .order_by("pk")
    )
    return [PoolExpert(pk, (uscc or "").strip().upper(), city_of(code, lvl)) for pk, uscc, code, lvl in rows]


def _applicants(application_ids: Iterable[int]) -> list[Applicant]:
    rows = (
        Application.objects.filter(pk__in=list(application_ids))
        .values_list(
            "pk", "number", "enterprise_id", "enterprise__uscc", "enterprise__region__code", "competitors"
        )
        .order_by("number")
    )
    result = []
    for pk, number, enterprise_id, uscc, region_code, competitors in rows:
        codes = tuple(sorted({str(c).strip().upper() for c in (competitors or []) if str(c).strip()}))
        result.append(Applicant(pk, number, enterprise_id, uscc.upper(), city_of(region_code), codes))
    return result


def _inputs(draw: PanelDraw, application_ids: Iterable[int]) -> Inputs:
    """What the draw saw when it was made: earlier draws only (by id), conflicts declared before it."""
    applicants = _applicants(application_ids)
    ids = [a.pk for a in applicants]
    conflicts = set(
        Assignment.objects.filter(
            status=A.CONFLICT,
            declared_at__lt=draw.created_at,
            application__enterprise_id__in={a.enterprise_id for a in applicants},
        )
        .exclude(draw=draw)
        .values_list("expert_id", "application__enterprise_id")
    )
    prior_load = dict(
        Assignment.objects.filter(draw__batch_id=draw.batch_id, draw_id__lt=draw.pk)
        .values("expert_id")
        .annotate(n=Count("pk"))
        .values_list("expert_id", "n")
        .order_by()
    )
    taken: dict[int, set[int]] = defaultdict(set)
    first_order: dict[int, int] = {}
    for application_id, expert_id, order in Assignment.objects.filter(
        application_id__in=ids, draw_id__lt=draw.pk
    ).values_list("application_id", "expert_id", "order"):
        taken[application_id].add(expert_id)
        first_order[application_id] = max(first_order.get(application_id, 0), order)
    return Inputs(_pool(draw), applicants, conflicts, prior_load, dict(taken), first_order)


def _plan(draw: PanelDraw, inputs: Inputs) -> Plan:
    return plan_draw(
        seed=draw.seed,
        panel_size=draw.panel_size,
        reserve_size=draw.reserve_size,
        avoid_same_city=draw.avoid_same_city,
        pool=inputs.pool,
        applicants=inputs.applicants,
        conflicts=inputs.conflicts,
        prior_load=inputs.prior_load,
        taken=inputs.taken,
        first_order=inputs.first_order,
    )


# --- helpers shared by the services ---------------------------------------------------------------


def _clean_seed(seed: str | None) -> str:
    if seed is None:
        return secrets.token_hex(16)
    seed = str(seed).strip()
    if not seed or len(seed) > SEED_MAX or not seed.isprintable():
        raise ValidationFailed(
            f"随机种子须为 1–{SEED_MAX} 个可打印字符。",
            details={"seed": f"随机种子须为 1–{SEED_MAX} 个可打印字符。"},
        )
    return seed


def _require_office(actor: Any) -> None:
    if not policies.is_office(actor):
        raise PermissionDeniedError("只有省质量强省办可以抽取评审专家。")


def lock_reviewing_batch(batch: Batch) -> Batch:
    # The batch row orders concurrent draws and aggregations of the same batch.
    locked = Batch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != Batch.Status.REVIEWING:
        raise ConflictError(
            f"批次“{locked.title}”当前为“{locked.get_status_display()}”，只有评审中的批次可以进行此操作。",
            code="batch_not_reviewing",
        )
    return locked


def numbers_text(numbers: Sequence[str], limit: int = 10) -> str:
    shown = "、".join(numbers[:limit])
    return shown + (f" 等 {len(numbers)} 件" if len(numbers) > limit else "")


def _save_seats(draw: PanelDraw, seats: Sequence[Seat]) -> None:
    bulk_insert(
        Assignment,
        [
            {
                "application": seat.application_id,
                "expert": seat.expert_id,
                "draw": draw.pk,
                "role": seat.role,
                "order": seat.order,
                "status": A.INVITED if seat.role == Assignment.Role.PANEL else A.STANDBY,
            }
            for seat in seats
        ],
    )


def _notify_invited(invited: Q, batch: Batch) -> None:
    """Tell the experts of the invited seats matching ``invited`` (a filter on Assignment)."""
    seats = Assignment.objects.filter(invited, status=A.INVITED)
    users = User.objects.filter(expert_profile__in=seats.values("expert_id")).only("pk", "is_active", "email")
    notify(
        users=users,
        kind="evaluation.assignment.invited",
        title=f"{batch.title}：您被抽取为评审专家，请声明有无利益冲突",
        body="请在“评审任务”中逐项声明与申报单位有无利益冲突；声明无冲突后方可查看申报材料并评分。",
        url=links.url_for("evaluation:assignment-list", fallback=links.notifications_page()),
    )


# Moves that a whole batch makes together and that have no domain rule beyond the transition
# table (``services._move_rule`` checks nothing for them, and ``application_move`` leaves their
# announcement to the batch services that make them: see ``notify_applicants``).
TOGETHER = {"start_review", "complete_review"}


def move_together(*, application_ids: Sequence[int], action: str, actor: Any) -> int:
    """Move many applications at once, recording for each exactly what ``services.application_move``
    records — a ``Decision`` and an ``evaluation.application.moved`` audit event — in a handful of
    queries rather than eight per application (2,000 applications in one draw or aggregation).

    Same table, same checks: every row is locked, must be in a source status of the move, and the
    actor must be allowed by the table; the update is a compare-and-set on the status.
    """
    if action not in TOGETHER:
        raise ValueError(f"{action!r} is not a move that applications make together")
    move = APPLICATION_TRANSITIONS[action]
    rows = list(
        Application.objects.select_for_update(of=("self",))
        .filter(pk__in=list(application_ids))
        .select_related("brand")
        .only("pk", "number", "status", "enterprise_id", "batch_id", "brand__name")
        .order_by("number")
    )
    labels = dict(Application.Status.choices)
    for application in rows:
        if application.status not in move.source:
            raise IllegalTransition(
                f"申报 {application.number} 当前为“{labels[application.status]}”，不能“{move.label}”。",
                details={"status": application.status, "action": action},
            )
        if not move.actor(actor, application):
            raise PermissionDeniedError(f"您无权执行“{move.label}”。")
    moved = Application.objects.filter(pk__in=[a.pk for a in rows], status__in=move.source).update(
        status=move.target, updated_at=timezone.now()
    )
    if moved != len(rows):
        raise ConflictError("部分申报已被他人处理，请刷新后再操作。", code="stale_status")
    organisation_id = scope_of(actor).organisation_id
    bulk_insert(
        Decision,
        [
            {
                "application": application.pk,
                "action": action,
                "from_status": application.status,
                "to_status": move.target,
                "actor": actor.pk,
                "organisation": organisation_id,
            }
            for application in rows
        ],
    )
    audit.record_many(
        [
            audit.entry_for(
                "evaluation.application.moved",
                application,
                old={"status": application.status},
                new={
                    "status": move.target,
                    "action": action,
                    "opinion": "",
                    "deadline": None,
                    "document": None,
                },
            )
            for application in rows
        ],
        actor=actor,
    )
    return len(rows)


def notify_applicants(application_ids: Sequence[int], *, kind: str, title: str, body: str) -> None:
    """Tell the applicants' members, in one notification each, that their applications moved
    together (the review table leaves these announcements to the batch services)."""
    organisations = (
        Application.objects.filter(pk__in=list(application_ids))
        .values_list("enterprise__organisation_id", flat=True)
        .distinct()
    )
    notify(
        users=recipients.members_of(organisations).only("pk", "is_active", "email"),
        kind=kind,
        title=title,
        body=body,
        url=links.notifications_page(),
    )


# --- drawing ------------------------------------------------------------------------------------


@transaction.atomic
def draw_panels(*, actor: Any, batch: Batch, rule_set: RuleSet, seed: str | None = None) -> PanelDraw:
    """Draw panels and reserves for the batch's ``checked`` applications under ``rule_set`` and
    move them to the expert review. Refused for applications that were drawn before."""
    _require_office(actor)
    batch = lock_reviewing_batch(batch)
    if not BatchRuleSet.objects.filter(batch=batch, rule_set=rule_set).exists():
        raise ValidationFailed(
            f"“{rule_set}”不是本批次采用的评价细则。", details={"rule_set": "不属于本批次。"}
        )
    seed = _clean_seed(seed)
    waiting = Application.objects.filter(batch=batch, rule_set=rule_set, status=Application.Status.CHECKED)
    drawn = sorted(waiting.filter(assignments__isnull=False).values_list("number", flat=True).distinct())
    if drawn:
        raise ConflictError(
            f"以下申报已抽取过评审专家，不能重复抽取：{numbers_text(drawn)}。",
            code="already_drawn",
            details={"applications": drawn},
        )
    ids = list(waiting.values_list("pk", flat=True))
    if not ids:
        raise ValidationFailed("该评价细则下没有待专家评审的申报。", code="nothing_to_draw")

    # The row is written first: its id and time define "earlier draws" and "conflicts declared
    # before", exactly as a replay will read them.
    draw = PanelDraw.objects.create(
        batch=batch,
        rule_set=rule_set,
        seed=seed,
        panel_size=batch.panel_size,
        reserve_size=batch.reserve_size,
        avoid_same_city=batch.avoid_same_city,
        pool_digest="",
        result_digest="",
        created_by=actor,
    )
    inputs = _inputs(draw, ids)
    plan = _plan(draw, inputs)
    draw.pool_digest = pool_digest(inputs.pool, inputs.prior_load, inputs.conflicts)
    draw.result_digest = result_digest(draw, inputs.applicants, plan.seats)
    draw.shortfalls = plan.shortfalls
    draw.save(update_fields=["pool_digest", "result_digest", "shortfalls"])
    _save_seats(draw, plan.seats)
    audit.record(
        "evaluation.draw.made",
        target=draw,
        actor=actor,
        new=_draw_summary(draw, inputs, plan),
    )
    move_together(application_ids=ids, action="start_review", actor=actor)
    _notify_invited(Q(draw=draw), batch)
    notify_applicants(
        ids,
        kind="evaluation.application.decided",
        title=f"{batch.title}：贵单位的申报已进入专家评审",
        body="评审专家已随机抽取，专家名单在评审结束前不公开。",
    )
    return draw


def _draw_summary(draw: PanelDraw, inputs: Inputs, plan: Plan) -> dict[str, Any]:
    return {
        "batch": draw.batch_id,
        "rule_set": draw.rule_set_id,
        "seed": draw.seed,
        "panel_size": draw.panel_size,
        "reserve_size": draw.reserve_size,
        "avoid_same_city": draw.avoid_same_city,
        "applications": len(inputs.applicants),
        "pool": len(inputs.pool),
        "seats": len(plan.seats),
        "load": [plan.min_load, plan.max_load],
        "exclusions": plan.exclusions,
        "shortfalls": [s["application"] for s in plan.shortfalls],
        "pool_digest": draw.pool_digest,
        "result_digest": draw.result_digest,
    }


@transaction.atomic
def draw_supplement(*, actor: Any, application: Application, seed: str | None = None) -> PanelDraw:
    """A supplementary draw for one application in expert review whose panel has empty seats and
    no reserve left (after a shortfall or exhausted reserves): the missing panel seats plus the
    batch's reserves, under the same rules, recorded and replayable like any draw."""
    _require_office(actor)
    batch = lock_reviewing_batch(application.batch)
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status != Application.Status.EXPERT_REVIEW:
        raise ConflictError(
            f"申报 {application.number} 当前为“{application.get_status_display()}”，不能补充抽取。",
            code="not_in_review",
        )
    seed = _clean_seed(seed)
    seats = Assignment.objects.filter(application=application)
    counts = seats.aggregate(
        active=Count("pk", filter=Q(status__in=ACTIVE)),
        standby=Count("pk", filter=Q(status=A.STANDBY)),
        size=Max("draw__panel_size", filter=Q(role=Assignment.Role.PANEL)),
    )
    required = counts["size"] or batch.panel_size
    missing = required - counts["active"]
    if missing <= 0 or counts["standby"]:
        raise ConflictError(
            f"申报 {application.number} 的评审组不缺人或仍有备选专家，无需补充抽取。", code="panel_complete"
        )
    draw = PanelDraw.objects.create(
        batch=batch,
        rule_set=application.rule_set,
        seed=seed,
        panel_size=missing,
        reserve_size=batch.reserve_size,
        avoid_same_city=batch.avoid_same_city,
        pool_digest="",
        result_digest="",
        created_by=actor,
    )
    inputs = _inputs(draw, [application.pk])
    plan = _plan(draw, inputs)
    draw.pool_digest = pool_digest(inputs.pool, inputs.prior_load, inputs.conflicts)
    draw.result_digest = result_digest(draw, inputs.applicants, plan.seats)
    draw.shortfalls = plan.shortfalls
    draw.save(update_fields=["pool_digest", "result_digest", "shortfalls"])
    _save_seats(draw, plan.seats)
    summary = _draw_summary(draw, inputs, plan)
    summary["supplement_for"] = application.number
    audit.record("evaluation.draw.made", target=draw, actor=actor, new=summary)
    _notify_invited(Q(draw=draw), batch)
    return draw


@dataclass
class DrawCheck:
    result_matches: bool
    pool_matches: bool
    exclusions: dict[str, int] = field(default_factory=dict)
    shortfalls: list[dict[str, Any]] = field(default_factory=list)


def draw_check(draw: PanelDraw) -> DrawCheck:
    """Recompute ``draw`` from its recorded seed and parameters over the current pool; say whether
    the seats and the pool are those recorded (and the exclusion counts the draw had)."""
    ids = set(Assignment.objects.filter(draw=draw).values_list("application_id", flat=True))
    ids |= {s["id"] for s in draw.shortfalls if s.get("kind") == "draw"}
    inputs = _inputs(draw, ids)
    plan = _plan(draw, inputs)
    recorded_pool = pool_digest(inputs.pool, inputs.prior_load, inputs.conflicts)
    return DrawCheck(
        result_matches=result_digest(draw, inputs.applicants, plan.seats) == draw.result_digest,
        pool_matches=recorded_pool == draw.pool_digest,
        exclusions=plan.exclusions,
        shortfalls=plan.shortfalls,
    )


def draw_replay(draw: PanelDraw) -> bool:
    """True when recomputing the draw gives exactly the recorded seats."""
    return draw_check(draw).result_matches


# --- declarations ---------------------------------------------------------------------------------


def own_assignment(actor: Any, assignment: Assignment) -> Assignment:
    """The actor's own assignment, locked; anyone else's (and standby seats) are invisible."""
    profile = policies.expert_profile(actor)
    if profile is None:
        raise NotFoundError()
    locked = (
        Assignment.objects.select_for_update()
        .filter(pk=assignment.pk, expert_id=profile.pk)
        .exclude(status=A.STANDBY)
        .first()
    )
    if locked is None:
        raise NotFoundError()
    return locked


def require_in_review(application: Application) -> None:
    if application.status != Application.Status.EXPERT_REVIEW:
        raise ConflictError(
            f"申报 {application.number} 当前为“{application.get_status_display()}”，不在专家评审阶段。",
            code="not_in_review",
        )


@transaction.atomic
def assignment_declare(*, actor: Any, assignment: Assignment, conflict: bool, note: str = "") -> Assignment:
    """The expert declares whether they have a conflict of interest with the applicant.

    No conflict: the application becomes visible and can be scored. A conflict (with a note
    saying what it is): the seat goes to the next reserve, and the expert is never drawn for this
    applicant again.
    """
    locked = own_assignment(actor, assignment)
    application = Application.objects.select_related("batch").get(pk=locked.application_id)
    if locked.status != A.INVITED:
        raise ConflictError(f"您已就申报 {application.number} 作出声明（{locked.get_status_display()}）。")
    require_in_review(application)
    note = (note or "").strip()
    if conflict and not note:
        raise ValidationFailed("请说明利益冲突的情况。", details={"note": "请说明利益冲突的情况。"})
    if len(note) > 300:
        raise ValidationFailed("说明不能超过 300 字。", details={"note": "说明不能超过 300 字。"})
    old = {"status": locked.status}
    locked.status = A.CONFLICT if conflict else A.ACCEPTED
    locked.conflict_note = note
    locked.declared_at = timezone.now()
    locked.save(update_fields=["status", "conflict_note", "declared_at", "updated_at"])
    audit.record(
        "evaluation.assignment.declared",
        target=locked,
        actor=actor,
        old=old,
        new={"status": locked.status, "note": note, "application": application.number},
    )
    if conflict:
        _promote_reserve(locked, application, actor)
    assignment.status = locked.status
    return locked


@transaction.atomic
def assignment_decline(*, actor: Any, assignment: Assignment, note: str = "") -> Assignment:
    """The expert cannot take part (before submitting scores); the next reserve is invited."""
    locked = own_assignment(actor, assignment)
    application = Application.objects.select_related("batch").get(pk=locked.application_id)
    if locked.status not in (A.INVITED, A.ACCEPTED):
        raise ConflictError(
            f"申报 {application.number} 的评审任务当前为“{locked.get_status_display()}”，不能拒绝。"
        )
    require_in_review(application)
    note = (note or "").strip()[:300]
    old = {"status": locked.status}
    locked.status = A.DECLINED
    locked.conflict_note = note
    locked.declared_at = timezone.now()
    locked.save(update_fields=["status", "conflict_note", "declared_at", "updated_at"])
    audit.record(
        "evaluation.assignment.declared",
        target=locked,
        actor=actor,
        old=old,
        new={"status": locked.status, "note": note, "application": application.number},
    )
    _promote_reserve(locked, application, actor)
    assignment.status = locked.status
    return locked


def _promote_reserve(vacated: Assignment, application: Application, actor: Any) -> Assignment | None:
    reserve = (
        Assignment.objects.select_for_update()
        .filter(application_id=vacated.application_id, status=A.STANDBY)
        .order_by("order")
        .first()
    )
    if reserve is None:
        draw = PanelDraw.objects.select_for_update().get(pk=vacated.draw_id)
        draw.shortfalls = [
            *draw.shortfalls,
            {
                "kind": "reserves_exhausted",
                "application": application.number,
                "id": application.pk,
                "vacated": vacated.pk,
                "at": timezone.now().isoformat(),
            },
        ]
        draw.save(update_fields=["shortfalls"])
        audit.record(
            "evaluation.assignment.replaced",
            target=vacated,
            actor=actor,
            old={"assignment": vacated.pk, "expert": vacated.expert_id, "status": vacated.status},
            new={"assignment": None, "reason": "reserves_exhausted", "application": application.number},
        )
        notify(
            users=recipients.office_staff(),
            kind="evaluation.draw.shortfall",
            title=f"申报 {application.number} 的备选专家已用完，请补充抽取",
            body=f"{application.batch.title}：申报 {application.number} 的评审专家回避或拒绝后已无备选专家。",
            url=links.url_of(application, fallback=links.notifications_page()),
        )
        return None
    reserve.status = A.INVITED
    reserve.save(update_fields=["status", "updated_at"])
    audit.record(
        "evaluation.assignment.replaced",
        target=reserve,
        actor=actor,
        old={"assignment": vacated.pk, "expert": vacated.expert_id, "status": vacated.status},
        new={
            "assignment": reserve.pk,
            "expert": reserve.expert_id,
            "order": reserve.order,
            "application": application.number,
        },
    )
    _notify_invited(Q(pk=reserve.pk), application.batch)
    return reserve


# --- reads ----------------------------------------------------------------------------------------


def assignment_list_for_expert(user: Any) -> QuerySet[Assignment]:
    """The expert's own assignments (never other experts', never standby reserve seats), with
    what they need to judge a conflict of interest: applicant, brand, batch."""
    return (
        policies.assignments_for_expert(user)
        .exclude(status=A.STANDBY)
        .select_related(
            "application__batch",
            "application__brand",
            "application__enterprise__region",
            "application__rule_set",
        )
        .order_by("-application__batch__year", "-application__batch__sequence", "application__number")
    )


def assignment_get_for_expert(user: Any, **lookup: Any) -> Assignment:
    assignment = assignment_list_for_expert(user).filter(**lookup).first()
    if assignment is None:
        raise NotFoundError()
    return assignment


def draws_for_batch(batch: Batch) -> QuerySet[PanelDraw]:
    """The batch's draws, for the office (callers have checked the actor reads the office's pages)."""
    return PanelDraw.objects.filter(batch=batch).select_related("rule_set__category", "created_by")
