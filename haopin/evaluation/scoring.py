"""Expert scoring and its aggregation: score sheets, the trimmed mean, dispersion and outlying
experts, the ranking per category, the pass line and the quotas.

The rules, as the office applies them:

- *Score sheet.* An expert who declared no conflict scores every leaf indicator of the rule set
  the application is bound to: 0 ≤ score ≤ the indicator's maximum, at most one decimal, with a
  comment for every score. Drafts may be saved any number of times; they are the expert's own
  working copy, unseen by anyone else and not audited. Submitting requires every indicator and
  locks the sheet; the submitted sheet, with every score and comment, is audited.
- *Per indicator*, the mean over the experts who submitted, after dropping one highest and one
  lowest score when five or more scored (``TRIM_FROM``); each indicator's mean is rounded to two
  decimals (half up) and the *total* is the sum of those rounded means, so that the figures on the
  scoring sheet add up to the total printed under them.
- *Dispersion*: the population standard deviation of the experts' totals (the panel is the whole
  population, not a sample), two decimals.
- *Outlying experts*: an expert whose total differs from the median of the panel's totals by more
  than ``OUTLIER_POINTS`` (10 points of 100). They are flagged for the office on the scoring sheet,
  in the ranking and in the aggregation's audit event; their scores still count (the trimmed mean
  already damps a single extreme sheet), and the office decides whether to act.
- *Ranking*, per rule set (a category and brand type scored under the same rules): by total,
  equal totals share a rank (competition ranking 1, 2, 2, 4). Displayed ties are ordered by the
  smaller dispersion (the panel agreed more), then by application number.
- *Pass line*: the rule set's ``pass_line``; ``passed`` is total ≥ pass line.
- *Quotas* (``Quota`` rows: per category, covering its sub-categories, and per city, across all
  categories): applications that passed are admitted in order of total across the batch; one
  whose quota is already full is skipped. When applications with equal totals compete for fewer
  places than remain in a quota, they are all marked ``quota_tie`` with ``within_quota`` unset,
  the places are held for them, and the office decides each with ``quota_decide``. Because city
  quotas span categories, the allocation is recomputed over the whole batch at each aggregation;
  earlier tie decisions are kept while the application is still tied and room remains, and are
  otherwise cleared (named in the audit event) for the office to decide again.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import groupby
from typing import Any

from django.db import transaction
from django.db.models import Count, FloatField, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from haopin.core import audit
from haopin.core.bulk import bulk_update
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import Category
from haopin.evaluation import experts, policies
from haopin.evaluation.models import Application, Assignment, Batch, Quota, Score
from haopin.notifications import links
from haopin.notifications import selectors as recipients
from haopin.notifications.services import notify
from haopin.standards.models import Indicator, RuleSet, VetoItem

A = Assignment.Status
S = Application.Status
TRIM_FROM = 5
OUTLIER_POINTS = Decimal("10")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
# Applications that left the review hold no place in rankings and quotas.
OUT_OF_RUNNING = (S.REJECTED, S.WITHDRAWN)


# --- arithmetic -----------------------------------------------------------------------------------


def trimmed_from_aggregates(total: Decimal, low: Decimal, high: Decimal, count: int) -> Decimal:
    """The trimmed mean from a group's sum, minimum, maximum and count (unrounded)."""
    if count >= TRIM_FROM:
        return (Decimal(total) - Decimal(low) - Decimal(high)) / (count - 2)
    return Decimal(total) / count


def trimmed_mean(values: Sequence[Decimal]) -> Decimal:
    return trimmed_from_aggregates(sum(values, Decimal(0)), min(values), max(values), len(values))


def cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def spread_of(totals: Sequence[Decimal]) -> Decimal:
    return cents(statistics.pstdev([Decimal(t) for t in totals])) if totals else Decimal("0.00")


def outlying(totals: Mapping[int, Decimal]) -> list[int]:
    """The keys whose total is more than OUTLIER_POINTS from the median of all totals."""
    if len(totals) < 2:
        return []
    median = statistics.median(totals.values())
    return sorted(key for key, total in totals.items() if abs(total - median) > OUTLIER_POINTS)


def competition_ranks(totals: Mapping[int, Decimal]) -> dict[int, int]:
    """1, 2, 2, 4: equal totals share the rank; the next rank skips the shared places."""
    ranks: dict[int, int] = {}
    ordered = sorted(totals.items(), key=lambda item: -item[1])
    place = 0
    for _, group in groupby(ordered, key=lambda item: item[1]):
        members = [key for key, _ in group]
        for key in members:
            ranks[key] = place + 1
        place += len(members)
    return ranks


# --- the expert's score sheet ---------------------------------------------------------------------


def leaf_indicators(rule_set_id: int) -> list[Indicator]:
    return list(
        Indicator.objects.filter(rule_set_id=rule_set_id, parent__isnull=False)
        .select_related("parent")
        .order_by("position", "code")
    )


def _scorable(actor: Any, assignment: Assignment) -> tuple[Assignment, Application]:
    locked = experts.own_assignment(actor, assignment)
    application = Application.objects.select_related("batch", "rule_set").get(pk=locked.application_id)
    if locked.status == A.SUBMITTED:
        raise ConflictError("评分已提交，不能再修改。", code="scores_submitted")
    if locked.status == A.INVITED:
        raise PermissionDeniedError("请先声明与申报单位无利益冲突，再查看申报材料和评分。")
    if locked.status != A.ACCEPTED:
        raise PermissionDeniedError("您已不在该申报的评审组中。")
    experts.require_in_review(application)
    # The evaluation policy is the one place that says who sees an application; ask it too.
    if not policies.applications_for_user(actor).filter(pk=application.pk).exists():
        raise NotFoundError()
    return locked, application


def _clean_score(indicator: Indicator, entry: Mapping[str, Any]) -> tuple[Decimal | None, str, str]:
    """(score, comment, error message or '')."""
    raw = entry.get("score")
    comment = str(entry.get("comment") or "").strip()
    label = f"{indicator.code} {indicator.name}"
    maximum = format(indicator.max_score.normalize(), "f")
    try:
        score = Decimal(str(raw).strip())
    except (InvalidOperation, TypeError, ValueError):
        return None, comment, f"{label}：请填写 0 至 {maximum} 之间的分数。"
    if not score.is_finite() or score < 0 or score > indicator.max_score:
        return None, comment, f"{label}：分数须在 0 至 {maximum} 之间。"
    if score != score.quantize(TENTH):
        return None, comment, f"{label}：分数最多保留一位小数。"
    if not comment:
        return None, comment, f"{label}：请填写评语。"
    return score.quantize(TENTH), comment, ""


@transaction.atomic
def scores_save(
    *, actor: Any, assignment: Assignment, scores: Mapping[str, Mapping[str, Any]]
) -> list[Score]:
    """Save (a draft of) some or all scores: ``{indicator code: {"score": …, "comment": …}}``.

    All-or-nothing: one bad entry refuses the whole save, with a message per indicator code.
    """
    locked, application = _scorable(actor, assignment)
    leaves = {indicator.code: indicator for indicator in leaf_indicators(application.rule_set_id)}
    errors: dict[str, str] = {}
    clean: dict[int, tuple[Decimal, str]] = {}
    for code, entry in scores.items():
        indicator = leaves.get(str(code))
        if indicator is None:
            errors[str(code)] = f"指标“{code}”不属于本申报适用的评价细则。"
            continue
        score, comment, error = _clean_score(indicator, entry or {})
        if error:
            errors[indicator.code] = error
        else:
            assert score is not None
            clean[indicator.pk] = (score, comment)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), details=errors)
    existing = {s.indicator_id: s for s in Score.objects.filter(assignment=locked)}
    new, changed = [], []
    for indicator_id, (score, comment) in clean.items():
        row = existing.get(indicator_id)
        if row is None:
            new.append(Score(assignment=locked, indicator_id=indicator_id, score=score, comment=comment))
        elif row.score != score or row.comment != comment:
            row.score, row.comment, row.updated_at = score, comment, timezone.now()
            changed.append(row)
    Score.objects.bulk_create(new)
    Score.objects.bulk_update(changed, ["score", "comment", "updated_at"])
    return list(Score.objects.filter(assignment=locked).order_by("indicator__position"))


@transaction.atomic
def scores_submit(*, actor: Any, assignment: Assignment) -> Assignment:
    """Submit the score sheet: every leaf indicator scored with a comment; afterwards it is locked."""
    locked, application = _scorable(actor, assignment)
    leaves = leaf_indicators(application.rule_set_id)
    rows = {s.indicator_id: s for s in Score.objects.filter(assignment=locked)}
    missing = [i.code for i in leaves if i.pk not in rows]
    if missing:
        raise ValidationFailed(
            f"尚有 {len(missing)} 项指标未评分：{'、'.join(missing[:10])}。",
            code="scores_incomplete",
            details={code: "请评分并填写评语。" for code in missing},
        )
    locked.status = A.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.save(update_fields=["status", "submitted_at", "updated_at"])
    total = sum((rows[i.pk].score for i in leaves), Decimal(0))
    audit.record(
        "evaluation.scores.submitted",
        target=locked,
        actor=actor,
        old={"status": A.ACCEPTED},
        new={
            "status": A.SUBMITTED,
            "application": application.number,
            "total": total,
            "scores": {i.code: [rows[i.pk].score, rows[i.pk].comment] for i in leaves},
        },
    )
    assignment.status = locked.status
    if not incomplete_panels(application.batch, application.rule_set):
        notify(
            users=recipients.office_staff(),
            kind="evaluation.scores.complete",
            title=f"{application.batch.title}：“{application.rule_set.title}”的专家评分已全部提交",
            body="可以汇总评审结果、生成排名。",
            url=links.url_of(application.batch, fallback=links.notifications_page()),
        )
    return locked


@transaction.atomic
def expert_veto_raise(
    *, actor: Any, assignment: Assignment, veto_item: VetoItem, note: str, document: Any = None
) -> Any:
    """An expert who declared no conflict raises a veto item of the application's rule set, with
    evidence; the office verifies it (``services.veto_raise`` records and audits it)."""
    locked = experts.own_assignment(actor, assignment)
    application = Application.objects.get(pk=locked.application_id)
    if locked.status not in (A.ACCEPTED, A.SUBMITTED):
        raise PermissionDeniedError("请先声明与申报单位无利益冲突。")
    experts.require_in_review(application)
    if veto_item.rule_set_id != application.rule_set_id:
        raise ValidationFailed(
            "该否决项不属于本申报适用的评价细则。", details={"veto_item": "不属于本申报适用的评价细则。"}
        )
    from haopin.evaluation import services

    return services.veto_raise(
        actor=actor, application=application, veto_item=veto_item, note=note, document=document
    )


# --- aggregation ----------------------------------------------------------------------------------


def incomplete_panels(batch: Batch, rule_set: RuleSet) -> list[tuple[str, int, int]]:
    """(number, submitted sheets, panel size) of applications in expert review still missing sheets."""
    rows = (
        Application.objects.filter(batch=batch, rule_set=rule_set, status=S.EXPERT_REVIEW)
        .annotate(
            submitted=Count("assignments", filter=Q(assignments__status=A.SUBMITTED)),
            size=Max("assignments__draw__panel_size", filter=Q(assignments__role=Assignment.Role.PANEL)),
        )
        .values_list("number", "submitted", "size")
        .order_by("number")
    )
    result = []
    for number, submitted, size in rows:
        required = size or batch.panel_size
        if submitted < required:
            result.append((number, submitted, required))
    return result


@dataclass
class Standing:
    """One application's place in the batch: what aggregation and quota allocation write."""

    pk: int
    number: str
    rule_set_id: int
    category_id: int
    city: str
    total: Decimal | None
    spread: Decimal | None
    passed: bool | None
    rank: int | None
    within_quota: bool | None
    quota_tie: bool

    def fields(self) -> tuple[Any, ...]:
        return (self.total, self.spread, self.passed, self.rank, self.within_quota, self.quota_tie)


@dataclass(frozen=True)
class QuotaLine:
    key: str
    label: str
    limit: int
    categories: frozenset[int] = frozenset()
    city: str = ""

    def covers(self, standing: Standing) -> bool:
        if self.city:
            return standing.city == self.city
        return standing.category_id in self.categories


def _subtrees() -> dict[int, set[int]]:
    rows = list(Category.objects.values_list("pk", "parent_id"))
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id in rows:
        if parent_id is not None:
            children[parent_id].append(pk)
    result: dict[int, set[int]] = {}
    for pk, _ in rows:
        seen, stack = {pk}, [pk]
        while stack:
            for child in children.get(stack.pop(), ()):
                seen.add(child)
                stack.append(child)
        result[pk] = seen
    return result


def quota_lines(batch: Batch) -> list[QuotaLine]:
    quotas = list(Quota.objects.filter(batch=batch).select_related("category", "city"))
    subtrees = _subtrees() if any(q.category_id for q in quotas) else {}
    lines = []
    for quota in quotas:
        if quota.category_id:
            assert quota.category is not None  # category_id is set
            lines.append(
                QuotaLine(
                    f"category:{quota.category_id}",
                    f"{quota.category.name}类别名额",
                    quota.limit,
                    categories=frozenset(subtrees[quota.category_id]),
                )
            )
        else:
            assert quota.city is not None  # a quota has a category or a city (check constraint)
            lines.append(
                QuotaLine(
                    f"city:{quota.city_id}", f"{quota.city.name}名额", quota.limit, city=quota.city.code[:4]
                )
            )
    return lines


def allocate(standings: Sequence[Standing], lines: Sequence[QuotaLine]) -> None:
    """Set ``within_quota`` and ``quota_tie`` on every standing (see the module doc)."""
    remaining = {line.key: line.limit for line in lines}
    contenders = sorted((s for s in standings if s.passed), key=lambda s: (-(s.total or 0), s.number))
    for s in standings:
        if not s.passed:
            s.within_quota, s.quota_tie = False, False
    for _, group in groupby(contenders, key=lambda s: s.total):
        live: list[tuple[Standing, list[str]]] = []
        for s in group:
            keys = [line.key for line in lines if line.covers(s)]
            if any(remaining[k] <= 0 for k in keys):
                s.within_quota, s.quota_tie = False, False
            else:
                live.append((s, keys))
        need = Counter(k for _, keys in live for k in keys)
        tight = {k for k, n in need.items() if n > remaining[k]}
        for s, keys in live:
            if tight & set(keys):
                s.within_quota, s.quota_tie = None, True
            else:
                s.within_quota, s.quota_tie = True, False
            for k in keys:
                remaining[k] -= 1
        for k in tight:
            remaining[k] = 0


def _room(standings: Iterable[Standing], lines: Sequence[QuotaLine], target: Standing) -> list[QuotaLine]:
    """The quota lines covering ``target`` that are already full (admitted ≥ limit)."""
    admitted = [s for s in standings if s.within_quota and s.pk != target.pk]
    return [
        line
        for line in lines
        if line.covers(target) and sum(1 for s in admitted if line.covers(s)) >= line.limit
    ]


def _standings(batch: Batch, extra_ids: Iterable[int] = ()) -> list[Standing]:
    rows = (
        Application.objects.filter(
            Q(batch=batch) & (Q(score_total__isnull=False) | Q(pk__in=list(extra_ids)))
        )
        .exclude(status__in=OUT_OF_RUNNING)
        .values_list(
            "pk",
            "number",
            "rule_set_id",
            "brand__category_id",
            "enterprise__region__code",
            "score_total",
            "score_spread",
            "passed",
            "rank",
            "within_quota",
            "quota_tie",
        )
        .order_by("number")
    )
    return [
        Standing(pk, number, rs, cat, experts.city_of(code), total, spread, passed, rank, within, tie)
        for pk, number, rs, cat, code, total, spread, passed, rank, within, tie in rows
    ]


@dataclass
class Aggregation:
    applications: int
    passed: int
    ties: list[str] = field(default_factory=list)
    outliers: dict[str, list[int]] = field(default_factory=dict)
    cleared_decisions: list[str] = field(default_factory=list)
    quota_changes: list[str] = field(default_factory=list)


def _tenths(value: Any) -> int:
    # Scores have one decimal, so sums, minima and maxima are whole numbers of tenths. SQLite sums
    # them as binary floats (error far below a tenth) and PostgreSQL as exact numerics; both come
    # back here as exact integers, and only the divisions below produce decimals.
    return round(value * 10)


def indicator_totals(application_filter: Q) -> dict[int, Decimal]:
    """Per application, the sum over indicators of the rounded trimmed means of submitted sheets:
    one GROUP BY (application, indicator) returning sum, minimum, maximum and count."""
    rows = (
        Score.objects.filter(application_filter, assignment__status=A.SUBMITTED)
        .values("assignment__application_id", "indicator_id")
        .annotate(
            total=Sum("score", output_field=FloatField()),
            low=Min("score", output_field=FloatField()),
            high=Max("score", output_field=FloatField()),
            count=Count("pk"),
        )
        .values_list("assignment__application_id", "total", "low", "high", "count")
        .order_by()
    )
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for application_id, total, low, high, count in rows:
        kept = _tenths(total)
        if count >= TRIM_FROM:
            kept -= _tenths(low) + _tenths(high)
            count -= 2
        totals[application_id] += cents(Decimal(kept) / (10 * count))
    return dict(totals)


def sheet_totals(application_filter: Q) -> dict[int, dict[int, Decimal]]:
    """Per application, each submitted sheet's total (assignment id → total): one GROUP BY."""
    rows = (
        Score.objects.filter(application_filter, assignment__status=A.SUBMITTED)
        .values("assignment__application_id", "assignment_id")
        .annotate(total=Sum("score", output_field=FloatField()))
        .values_list("assignment__application_id", "assignment_id", "total")
        .order_by()
    )
    sheets: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for application_id, assignment_id, total in rows:
        sheets[application_id][assignment_id] = Decimal(_tenths(total)) / 10
    return dict(sheets)


@transaction.atomic
def aggregate(*, actor: Any, batch: Batch, rule_set: RuleSet) -> Aggregation:
    """Aggregate the submitted score sheets of the batch's applications under ``rule_set``: totals,
    dispersion, outliers, ranking, pass line, quotas (batch-wide); then move them to ``reviewed``.

    Refused, naming them, while an application's panel has fewer submitted sheets than its size.
    """
    if not policies.is_office(actor):
        raise PermissionDeniedError("只有省质量强省办可以汇总评审结果。")
    batch = experts.lock_reviewing_batch(batch)
    ids = list(
        Application.objects.filter(batch=batch, rule_set=rule_set, status=S.EXPERT_REVIEW)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise ValidationFailed("该评价细则下没有待汇总的申报。", code="nothing_to_aggregate")
    missing = incomplete_panels(batch, rule_set)
    if missing:
        numbers = [number for number, _, _ in missing]
        raise ValidationFailed(
            f"以下申报的专家评分尚未全部提交，不能汇总：{experts.numbers_text(numbers)}。",
            code="scores_missing",
            details={"applications": {n: f"已提交 {got}/{need} 份" for n, got, need in missing}},
        )

    current = set(ids)
    in_review = Q(
        assignment__application__batch=batch,
        assignment__application__rule_set=rule_set,
        assignment__application__status=S.EXPERT_REVIEW,
    )
    totals, sheets = indicator_totals(in_review), sheet_totals(in_review)
    standings = _standings(batch, ids)
    before = {s.pk: s.fields() for s in standings}
    decided = {s.pk: s.within_quota for s in standings if s.quota_tie and s.within_quota is not None}
    by_pk = {s.pk: s for s in standings}
    outliers: dict[str, list[int]] = {}
    for pk in ids:
        s = by_pk[pk]
        s.total = cents(totals.get(pk, Decimal(0)))
        panel = sheets.get(pk, {})
        s.spread = spread_of(list(panel.values()))
        s.passed = s.total >= rule_set.pass_line
        flagged = outlying(panel)
        if flagged:
            outliers[s.number] = flagged
    same_rules = {s.pk: s.total for s in standings if s.rule_set_id == rule_set.pk and s.total is not None}
    for pk, rank in competition_ranks(same_rules).items():
        by_pk[pk].rank = rank

    lines = quota_lines(batch)
    allocate(standings, lines)
    cleared = []
    for s in sorted(standings, key=lambda s: (-(s.total or 0), s.number)):
        if s.pk not in decided:
            continue
        keep = s.quota_tie and (not decided[s.pk] or not _room(standings, lines, s))
        if keep:
            s.within_quota = decided[s.pk]
        else:
            cleared.append(s.number)

    changed = [s for s in standings if s.pk in current or s.fields() != before[s.pk]]
    now = timezone.now()
    bulk_update(
        Application,
        ("score_total", "score_spread", "passed", "rank", "within_quota", "quota_tie", "updated_at"),
        ((s.pk, s.total, s.spread, s.passed, s.rank, s.within_quota, s.quota_tie, now) for s in changed),
    )
    result = Aggregation(
        applications=len(ids),
        passed=sum(1 for pk in ids if by_pk[pk].passed),
        ties=sorted(s.number for s in standings if s.quota_tie and s.within_quota is None),
        outliers=outliers,
        cleared_decisions=cleared,
        quota_changes=sorted(
            s.number
            for s in changed
            if s.pk not in current and (before[s.pk][4], before[s.pk][5]) != (s.within_quota, s.quota_tie)
        ),
    )
    audit.record(
        "evaluation.scores.aggregated",
        target=batch,
        actor=actor,
        new={
            "rule_set": rule_set.pk,
            "pass_line": rule_set.pass_line,
            "applications": result.applications,
            "passed": result.passed,
            "quota_ties": result.ties,
            "outliers": result.outliers,
            "cleared_decisions": result.cleared_decisions,
            "quota_changes": result.quota_changes,
            "outlier_rule": f"专家总分偏离组内中位数超过 {OUTLIER_POINTS} 分",
        },
    )
    experts.move_together(application_ids=ids, action="complete_review", actor=actor)
    experts.notify_applicants(
        ids,
        kind="evaluation.application.decided",
        title=f"{batch.title}：贵单位申报的专家评审已完成",
        body="下一步为征求有关部门意见和结果审定，评审结果将在公示时公布。",
    )
    return result


@transaction.atomic
def quota_decide(*, actor: Any, application: Application, admit: bool, reason: str) -> Application:
    """The office decides an application tied exactly at a quota line: admit it or not, with reasons.

    Admitting is refused when one of its quotas is already full with the other decisions.
    """
    if not policies.is_office(actor):
        raise PermissionDeniedError("只有省质量强省办可以裁定名额。")
    batch = Batch.objects.select_for_update().get(pk=application.batch_id)
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if not locked.quota_tie:
        raise ConflictError(f"申报 {locked.number} 不在名额线同分待定之列。", code="no_quota_tie")
    if locked.within_quota is not None:
        raise ConflictError(f"申报 {locked.number} 的名额已经裁定。", code="quota_decided")
    if locked.status not in (S.REVIEWED, S.CONSULTED):
        raise ConflictError(
            f"申报 {locked.number} 当前为“{locked.get_status_display()}”，不能裁定名额。", code="not_reviewed"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写裁定理由。", details={"reason": "请填写裁定理由。"})
    if admit:
        standings = _standings(batch)
        target = next(s for s in standings if s.pk == locked.pk)
        full = _room(standings, quota_lines(batch), target)
        if full:
            labels = "、".join(line.label for line in full)
            raise ValidationFailed(
                f"{labels}已满，不能再纳入。", code="quota_full", details={"admit": f"{labels}已满。"}
            )
    locked.within_quota = bool(admit)
    locked.save(update_fields=["within_quota", "updated_at"])
    audit.record(
        "evaluation.quota.decided",
        target=locked,
        actor=actor,
        old={"within_quota": None},
        new={"within_quota": bool(admit), "reason": reason},
    )
    application.within_quota = locked.within_quota
    return locked


# --- reads: the scoring sheet and the ranking -----------------------------------------------------


def expert_sheet(user: Any, assignment_id: int) -> tuple[Assignment, list[tuple[Indicator, Score | None]]]:
    """The expert's own score sheet, drafts included, for the scoring form: every leaf indicator
    with its saved score (or None). Someone else's seat is invisible; an undeclared one is 403."""
    assignment = experts.assignment_get_for_expert(user, pk=assignment_id)
    if assignment.status not in (A.ACCEPTED, A.SUBMITTED):
        raise PermissionDeniedError("请先声明与申报单位无利益冲突，再查看申报材料和评分。")
    saved = {s.indicator_id: s for s in Score.objects.filter(assignment=assignment)}
    leaves = leaf_indicators(assignment.application.rule_set_id)
    return assignment, [(indicator, saved.get(indicator.pk)) for indicator in leaves]


@dataclass
class SheetExpert:
    assignment_id: int
    name: str
    employer: str
    role: str
    status: str
    submitted: bool
    total: Decimal | None = None
    outlier: bool = False


@dataclass
class SheetRow:
    code: str
    name: str
    dimension: str
    max_score: Decimal
    cells: list[tuple[Decimal, str] | None]
    mean: Decimal | None


@dataclass
class ScoringSheet:
    application: Application
    experts: list[SheetExpert]
    rows: list[SheetRow]
    total: Decimal | None
    spread: Decimal | None
    median: Decimal | None
    trimmed: bool


def scoring_sheet(application: Application) -> ScoringSheet:
    """Each panel member's submitted scores and comments (drafts stay private), the trimmed mean
    per indicator, the total, the dispersion and the outlier flags. Callers check the actor is the
    office (``policies.is_office_reader``)."""
    seats = list(
        Assignment.objects.filter(application=application)
        .exclude(status=A.STANDBY)
        .select_related("expert__user")
        .order_by("order")
    )
    submitted = [a for a in seats if a.status == A.SUBMITTED]
    column = {a.pk: index for index, a in enumerate(submitted)}
    leaves = leaf_indicators(application.rule_set_id)
    cells: dict[int, list[tuple[Decimal, str] | None]] = {i.pk: [None] * len(submitted) for i in leaves}
    for assignment_id, indicator_id, score, comment in Score.objects.filter(
        assignment__in=submitted
    ).values_list("assignment_id", "indicator_id", "score", "comment"):
        if indicator_id in cells:
            cells[indicator_id][column[assignment_id]] = (Decimal(score), comment)
    rows = []
    for indicator in leaves:
        assert indicator.parent is not None  # leaf indicators have a parent (leaf_indicators)
        values = [c[0] for c in cells[indicator.pk] if c is not None]
        mean = cents(trimmed_mean(values)) if values else None
        rows.append(
            SheetRow(
                indicator.code,
                indicator.name,
                indicator.parent.name,
                indicator.max_score,
                cells[indicator.pk],
                mean,
            )
        )
    sheet_totals: dict[int, Decimal] = {}
    for a in submitted:
        scored = (row.cells[column[a.pk]] for row in rows)
        sheet_totals[a.pk] = sum((cell[0] for cell in scored if cell is not None), Decimal(0))
    flagged = set(outlying(sheet_totals))
    people = [
        SheetExpert(
            a.pk,
            str(a.expert.user),
            a.expert.employer,
            a.get_role_display(),
            a.get_status_display(),
            a.status == A.SUBMITTED,
            sheet_totals.get(a.pk),
            a.pk in flagged,
        )
        for a in seats
    ]
    means = [row.mean for row in rows if row.mean is not None]
    return ScoringSheet(
        application=application,
        experts=people,
        rows=rows,
        total=cents(sum(means, Decimal(0))) if submitted else None,
        spread=spread_of(list(sheet_totals.values())) if submitted else None,
        median=statistics.median(sheet_totals.values()) if submitted else None,
        trimmed=len(submitted) >= TRIM_FROM,
    )


def ranking(batch: Batch, rule_set: RuleSet) -> QuerySet[Application]:
    """The scored applications of one rule set in the batch, in display order: rank, then the
    smaller dispersion, then the number."""
    return (
        Application.objects.filter(batch=batch, rule_set=rule_set, score_total__isnull=False)
        .select_related("brand", "enterprise__region__parent")
        .order_by("rank", "score_spread", "number")
    )


def outlier_counts(batch: Batch, rule_set: RuleSet) -> dict[int, int]:
    """Per application, how many submitted sheets lie more than OUTLIER_POINTS from the median."""
    sheets = sheet_totals(Q(assignment__application__batch=batch, assignment__application__rule_set=rule_set))
    return {pk: len(outlying(panel)) for pk, panel in sheets.items() if outlying(panel)}
