"""Reads of batches and applications, always scoped by ``evaluation.policies``.

List selectors join what a list row shows (``select_related``) so that a page costs the same
number of queries whatever its size; ``application_page`` loads everything one application's
page shows, in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from haopin.core.formatting import cn_date
from haopin.core.policies import ScopeKind, get_visible, scope_of
from haopin.evaluation import facts, policies
from haopin.evaluation.models import (
    Application,
    Batch,
    BatchRuleSet,
    CriterionCheck,
    Decision,
    Evidence,
    Figure,
    Quota,
    SelfAssessment,
    VetoFinding,
)
from haopin.evaluation.workflow import UNDECIDED
from haopin.registry import policies as registry_policies
from haopin.registry.models import Brand, BrandSource, Document, Enterprise
from haopin.standards.models import Indicator

S = Application.Status

# --- batches -----------------------------------------------------------------------------------


def batch_list_for_user(user: Any) -> QuerySet[Batch]:
    return policies.batches_for_user(user).annotate(application_count=Count("applications"))


def batch_get_for_user(user: Any, uuid: Any) -> Batch:
    return cast(Batch, get_visible(policies.batches_for_user(user), uuid=uuid))


def batch_rule_sets(batch: Batch) -> QuerySet[BatchRuleSet]:
    return batch.rule_sets.select_related("rule_set__category", "rule_set__brand_type").order_by(
        "rule_set__category__code", "rule_set__brand_type__position"
    )


def batch_quotas(batch: Batch) -> QuerySet[Quota]:
    return batch.quotas.select_related("category", "city")


def batch_rule_set_for(batch: Batch, *, category_id: int, brand_type_id: int) -> Any:
    """The rule set ``batch`` applies to brands of this level-2 category and type, or None."""
    link = (
        batch.rule_sets.select_related("rule_set")
        .filter(rule_set__category_id=category_id, rule_set__brand_type_id=brand_type_id)
        .first()
    )
    return link.rule_set if link else None


def undecided_applications(batch: Batch, *, today: dt.date | None = None) -> list[Application]:
    """The applications of ``batch`` still awaiting a decision (what keeps the notice closed).

    Approved, rejected and withdrawn applications are decided; so is a returned one whose
    correction deadline has passed, and a draft, which can no longer be submitted once the
    application window has closed.
    """
    today = today or timezone.localdate()
    return list(
        batch.applications.filter(status__in=UNDECIDED)
        .exclude(status=S.RETURNED, return_deadline__lt=today)
        .select_related("brand")
        .order_by("number")
    )


# --- applications -------------------------------------------------------------------------------


def application_list_for_user(
    user: Any, *, batch: Batch | None = None, status: str | None = None
) -> QuerySet[Application]:
    qs = policies.applications_for_user(user).select_related(
        "batch",
        "brand__category",
        "brand__brand_type",
        "enterprise__region__parent",
        "rule_set",
        "recommender",
    )
    if batch is not None:
        qs = qs.filter(batch=batch)
    if status:
        qs = qs.filter(status=status)
    return qs


def application_get_for_user(user: Any, *, uuid: Any = None, number: str | None = None) -> Application:
    lookup = {"uuid": uuid} if uuid is not None else {"number": (number or "").upper()}
    return cast(Application, get_visible(application_list_for_user(user), **lookup))


def application_status_counts(user: Any, *, batch: Batch | None = None) -> dict[str, int]:
    """Applications visible to ``user`` per status (every status present, zero included)."""
    qs = policies.applications_for_user(user)
    if batch is not None:
        qs = qs.filter(batch=batch)
    counts = dict.fromkeys(S.values, 0)
    for row in qs.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


@dataclass(frozen=True)
class ApplicationPage:
    application: Application
    products: list[Any]
    figures: list[Figure]
    leaf_indicators: list[Indicator]
    self_assessments: dict[int, SelfAssessment]  # indicator id → entry
    evidence: list[Evidence]
    decisions: list[Decision]
    checks: list[CriterionCheck]
    findings: list[VetoFinding]
    eligibility: facts.Eligibility
    veto_problems: list[str]
    gaps: dict[str, str]

    @property
    def self_assessment_total(self) -> Any:
        return sum((a.score for a in self.self_assessments.values()), start=0)


def application_page(application: Application) -> ApplicationPage:
    """Everything the application's page shows. Callers have checked it is visible."""
    application = (
        Application.objects.select_related(
            "batch",
            "brand__category__parent",
            "brand__brand_type",
            "enterprise__region__parent",
            "rule_set",
            "recommender",
            "created_by",
        )
        .prefetch_related(
            "products",
            "figures",
            Prefetch("self_assessments", queryset=SelfAssessment.objects.select_related("indicator")),
            Prefetch("evidence", queryset=Evidence.objects.select_related("document", "indicator")),
            Prefetch(
                "decisions", queryset=Decision.objects.select_related("actor", "organisation", "document")
            ),
            Prefetch(
                "criterion_checks", queryset=CriterionCheck.objects.select_related("criterion", "checked_by")
            ),
            Prefetch(
                "veto_findings",
                queryset=VetoFinding.objects.select_related(
                    "veto_item", "raised_by", "resolved_by", "document"
                ),
            ),
            "rule_set__criteria",
        )
        .get(pk=application.pk)
    )
    leaves = list(application.rule_set.indicators.filter(parent__isnull=False).order_by("position", "code"))
    findings = list(application.veto_findings.all())
    return ApplicationPage(
        application=application,
        products=list(application.products.all()),
        figures=sorted(application.figures.all(), key=lambda f: f.year),
        leaf_indicators=leaves,
        self_assessments={a.indicator_id: a for a in application.self_assessments.all()},
        evidence=list(application.evidence.all()),
        decisions=list(application.decisions.all()),
        checks=list(application.criterion_checks.all()),
        findings=findings,
        eligibility=facts.eligibility(application),
        veto_problems=facts.veto_problems(findings),
        gaps=application_gaps(application),
    )


def application_gaps(application: Application, *, today: dt.date | None = None) -> dict[str, str]:
    """What still keeps a draft or returned application from being submitted (field → message;
    empty when nothing does, and for applications already past submission).

    The same rule ``application_move(action="submit")`` enforces, so the page can show the
    applicant the list before they press the button.
    """
    if application.status not in {S.DRAFT, S.RETURNED}:
        return {}
    today = today or timezone.localdate()
    gaps: dict[str, str] = {}
    batch = application.batch
    if application.status == S.RETURNED:
        if application.return_deadline is not None and today > application.return_deadline:
            gaps["window"] = f"整改期限（{cn_date(application.return_deadline)}）已过，不能再提交。"
    elif batch.status != Batch.Status.OPEN or not (batch.apply_from <= today <= batch.apply_until):
        gaps["window"] = (
            f"不在申报时间内（{cn_date(batch.apply_from)}至{cn_date(batch.apply_until)}），不能提交。"
        )
    if not (application.summary or "").strip():
        gaps["summary"] = "请填写品牌简介与申报理由。"
    if not application.products.exists():
        gaps["products"] = "请至少选择一项申报的产品或服务。"
    years = set(application.figures.values_list("year", flat=True))
    missing_years = [y for y in required_years(batch) if y not in years]
    if missing_years:
        gaps["figures"] = "请填写" + "、".join(f"{y}年" for y in missing_years) + "的主要经济指标。"
    leaves = application.rule_set.indicators.filter(parent__isnull=False)
    unscored = list(
        leaves.exclude(pk__in=application.self_assessments.values("indicator_id"))
        .order_by("position", "code")
        .values_list("code", flat=True)
    )
    if unscored:
        gaps["self_assessment"] = f"还有 {len(unscored)} 项指标未自评：" + "、".join(unscored) + "。"
    if not application.declaration_signed_at:
        gaps["declaration"] = "请签署申报材料真实性承诺。"
    return gaps


def required_years(batch: Batch) -> list[int]:
    """Key figures are asked for the three years before the batch year."""
    return [batch.year - 3, batch.year - 2, batch.year - 1]


# --- what awaits whom (to-do lists and notifications) ------------------------------------------


def applications_to_recommend(user: Any) -> QuerySet[Application]:
    """Submitted applications ``user`` (a bureau or department) may recommend."""
    scope = scope_of(user)
    if not scope.can_write or scope.kind not in {ScopeKind.REGION, ScopeKind.DEPARTMENT}:
        return Application.objects.none()
    return policies.applications_for_user(user).filter(
        Q(recommender__isnull=True) | Q(recommender_id=scope.organisation_id), status=S.SUBMITTED
    )


# --- what the workspace pages offer -----------------------------------------------------------


def batches_open_for_applications(user: Any, *, today: dt.date | None = None) -> QuerySet[Batch]:
    """Batches whose application window is open today (the ones a new application can join)."""
    today = today or timezone.localdate()
    return (
        policies.batches_for_user(user)
        .filter(status=Batch.Status.OPEN, apply_from__lte=today, apply_until__gte=today)
        .order_by("apply_until", "pk")
    )


def brands_for_application(user: Any) -> QuerySet[Brand]:
    """The active brands an enterprise's (or brand owner's) writing member may apply for."""
    scope = scope_of(user)
    if scope.kind != ScopeKind.ORGANISATION or not scope.can_write:
        return Brand.objects.none()
    return (
        registry_policies.brands_for_user(user, "change")
        # An organisation's scope carries its id (scope_of).
        .filter(owner__organisation_id=cast(int, scope.organisation_id), status=Brand.Status.ACTIVE)
        .select_related("category", "brand_type")
        .order_by("name", "pk")
    )


def brands_to_recommend(user: Any, term: str = "") -> QuerySet[Brand]:
    """Registry brands a bureau or department may recommend (``policies.can_recommend_for``:
    the owner in the bureau's region, or the brand in the department's categories or source
    programmes), optionally searched by brand name, owner name or the owner's credit code."""
    scope = scope_of(user)
    if not scope.can_write or scope.kind not in {ScopeKind.REGION, ScopeKind.DEPARTMENT}:
        return Brand.objects.none()
    qs = Brand.objects.filter(status=Brand.Status.ACTIVE)
    if scope.kind == ScopeKind.REGION:
        qs = qs.filter(owner__region__code__startswith=scope.region_prefix)
    else:
        q = Q(category_id__in=scope.category_ids)
        if scope.programme_ids:
            q |= Q(pk__in=BrandSource.objects.filter(programme_id__in=scope.programme_ids).values("brand_id"))
        qs = qs.filter(q)
    term = (term or "").strip()[:100]
    if term:
        qs = qs.filter(Q(name__icontains=term) | Q(owner__name__icontains=term) | Q(owner__uscc=term.upper()))
    return qs.select_related("owner__region__parent", "category", "brand_type").order_by("name", "pk")


def application_document_get(application: Application, uuid: Any) -> Document:
    """A file attached to ``application`` (evidence, a decision's document, a veto finding's
    evidence); whoever may see the application may read it. Anything else is not found."""
    attached = (
        Q(pk__in=application.evidence.values("document_id"))
        | Q(pk__in=application.decisions.filter(document__isnull=False).values("document_id"))
        | Q(pk__in=application.veto_findings.filter(document__isnull=False).values("document_id"))
    )
    return cast(Document, get_visible(Document.objects.filter(attached), uuid=uuid))


def competitors_named(codes: list[str] | None) -> list[tuple[str, str]]:
    """The competitors an application names (credit codes), each with its registered name ('' when
    the registry does not know it), for readers who judge a conflict of interest."""
    codes = list(codes or [])
    if not codes:
        return []
    names = dict(Enterprise.objects.filter(uscc__in=codes).values_list("uscc", "name"))
    return [(code, names.get(code, "")) for code in codes]


# --- the office's batch pages (workspace) --------------------------------------------------------


def batch_rule_set_counts(batch: Batch) -> dict[int, dict[str, int]]:
    """Per rule set of ``batch``, its applications per status (for the office's batch page)."""
    counts: dict[int, dict[str, int]] = {}
    rows = batch.applications.order_by().values("rule_set_id", "status").annotate(n=Count("pk"))
    for row in rows:
        counts.setdefault(row["rule_set_id"], {})[row["status"]] = row["n"]
    return counts


def panel_progress(batch: Batch, rule_set: Any) -> QuerySet[Application]:
    """The applications of ``batch`` under ``rule_set`` in expert review, each annotated with its
    panel's progress: ``submitted`` sheets, ``active`` seats (invited, accepted or submitted),
    ``standby`` reserves, ``vacated`` seats (declined or conflict) and ``size`` (the panel size
    of its draws). The same counts ``scoring.incomplete_panels`` checks before aggregating."""
    from haopin.evaluation.models import Assignment

    A = Assignment.Status
    return (
        Application.objects.filter(batch=batch, rule_set=rule_set, status=S.EXPERT_REVIEW)
        .select_related("brand", "enterprise")
        .annotate(
            submitted=Count("assignments", filter=Q(assignments__status=A.SUBMITTED)),
            active=Count(
                "assignments", filter=Q(assignments__status__in=[A.INVITED, A.ACCEPTED, A.SUBMITTED])
            ),
            standby=Count("assignments", filter=Q(assignments__status=A.STANDBY)),
            vacated=Count("assignments", filter=Q(assignments__status__in=[A.DECLINED, A.CONFLICT])),
            size=Max("assignments__draw__panel_size", filter=Q(assignments__role=Assignment.Role.PANEL)),
        )
        .order_by("number")
    )


def objection_public_answer(number: str) -> tuple[str, dt.datetime | None]:
    """The office's answer to an objection and when it was given ('' and None while open), for
    the public status page; ``number`` has passed ``notices.objection_public_get``. Never the
    objector's name or contact details."""
    from haopin.evaluation.models import Objection

    row = Objection.objects.filter(number=number).values_list("answer", "answered_at").first()
    return row if row is not None else ("", None)
