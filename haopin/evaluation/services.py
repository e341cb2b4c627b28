"""Writes of the evaluation domain: batches, applications and their review.

Audit actions of the whole domain are declared here (the expert draw, scoring and public notice
modules record them too).

Batches are managed by the office: created as drafts, given one published rule set per
(level-2 category, brand type) and optional quotas, then moved through the batch table
(``evaluation.workflow.BATCH_TRANSITIONS``). Applications are started by the brand's owner, or
by a bureau or department as a recommendation that the owner completes; the owner fills them in
while they are drafts or returned, and every decision afterwards goes through
``application_move``, which enforces the full rule of each move (a complete submission,
eligibility before qualification, no pending or confirmed veto finding, a future correction
deadline), so that the workspace, the API and batch operations behave alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from haopin.accounts.models import Membership, Organisation
from haopin.core import audit, numbering, workflow
from haopin.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from haopin.core.formatting import cn_date
from haopin.core.models import Category, Region
from haopin.core.policies import scope_of
from haopin.core.writes import assign, full_clean_or_raise, messages_of
from haopin.evaluation import facts, policies, selectors
from haopin.evaluation.models import (
    Application,
    Assignment,
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
from haopin.evaluation.workflow import APPLICATION_TRANSITIONS, BATCH_TRANSITIONS, REJECTABLE
from haopin.notifications import links
from haopin.notifications import selectors as recipients
from haopin.notifications.services import notify
from haopin.registry.models import Brand, Document, Product
from haopin.registry.validation import normalise_uscc
from haopin.standards.models import Criterion, Indicator, RuleSet, VetoItem

AUDIT_ACTIONS = {
    "evaluation.batch.created": "创建评价批次",
    "evaluation.batch.updated": "修改评价批次",
    "evaluation.batch.rules_changed": "调整批次评价细则或名额",
    "evaluation.batch.moved": "批次状态变更",
    "evaluation.application.created": "创建申报",
    "evaluation.application.updated": "修改申报内容",
    "evaluation.application.moved": "申报审查决定",
    "evaluation.application.declaration_signed": "签署真实性承诺",
    "evaluation.application.evidence_added": "上传证明材料",
    "evaluation.application.evidence_removed": "删除证明材料",
    "evaluation.application.criterion_checked": "资格条件审查",
    "evaluation.veto.raised": "提出否决情形",
    "evaluation.veto.resolved": "核实否决情形",
    "evaluation.draw.made": "抽取评审专家",
    "evaluation.assignment.declared": "专家利益冲突声明",
    "evaluation.assignment.replaced": "备选专家递补",
    "evaluation.scores.submitted": "专家提交评分",
    "evaluation.scores.aggregated": "汇总评审结果",
    "evaluation.quota.decided": "名额线同分裁定",
    "evaluation.calendar.changed": "调整节假日安排",
    "evaluation.notice.opened": "发布公示",
    "evaluation.notice.closed": "公示结束",
    "evaluation.objection.lodged": "提出异议",
    "evaluation.objection.answered": "答复异议",
}

S = Application.Status
B = Batch.Status
APPLICATION_LABELS = dict(Application.Status.choices)
BATCH_LABELS = dict(Batch.Status.choices)

# --- shared helpers -----------------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate()


def _require_office(actor: Any, message: str = "只有省质量强省办可以管理评价批次。") -> None:
    if not policies.is_office(actor):
        raise PermissionDeniedError(message)


def _would_apply(
    table: Mapping[str, workflow.Transition],
    locked: Any,
    action: str,
    actor: Any,
    expected_status: str | None = None,
) -> bool:
    """Would ``workflow.apply`` accept this move up to its domain rule? Domain rules are checked
    only then, so that an illegal move or a user who may not act gets that error first."""
    move = table.get(action)
    if move is None or locked.status not in move.source:
        return False
    if expected_status is not None and locked.status != expected_status:
        return False
    return bool(move.actor(actor, locked))


def _writers(organisation_ids: Iterable[int | None]) -> Any:
    return recipients.members_of(organisation_ids).exclude(membership__role=Membership.Role.READONLY)


def _category_chain(category: Category) -> list[Category]:
    """The category and its ancestors (the tree has three levels)."""
    chain: list[Category] = []
    node: Category | None = category
    while node is not None and len(chain) < 5:
        chain.append(node)
        node = node.parent
    return chain


def _region_chain(region: Region) -> list[Region]:
    """The division and the divisions above it (county → city → province)."""
    chain: list[Region] = []
    node: Region | None = region
    while node is not None and len(chain) < 4:
        chain.append(node)
        node = node.parent
    return chain


def _label(model: Any, name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


def recommending_organisations(application: Application) -> list[Organisation]:
    """The units that may recommend ``application`` (``policies.is_recommender``): the unit
    that started a recommendation, otherwise the city and county bureaus of the enterprise's
    region and the departments managing the brand's category or source programme."""
    if application.recommender_id is not None:
        return list(Organisation.objects.filter(pk=application.recommender_id))
    K = Organisation.Kind
    regions = [r.pk for r in _region_chain(application.enterprise.region)]
    categories = [c.pk for c in _category_chain(application.brand.category)]
    programmes = list(application.brand.sources.values_list("programme_id", flat=True))
    active = Organisation.objects.filter(status=Organisation.Status.ACTIVE)
    bureaus = active.filter(kind__in=[K.CITY_BUREAU, K.COUNTY_BUREAU], region_id__in=regions)
    departments = active.filter(kind=K.DEPARTMENT).filter(
        Q(managed_categories__in=categories) | Q(managed_programmes__in=programmes)
    )
    return list(bureaus) + list(departments.distinct())


def level2_category(category: Category) -> Category | None:
    """The programme's category (level 2) a brand's category belongs to, if any."""
    for node in _category_chain(category):
        if node.level == 2:
            return node
    return None


# --- batches -----------------------------------------------------------------------------------

BATCH_FIELDS = [
    "year",
    "sequence",
    "title",
    "apply_from",
    "apply_until",
    "recommend_until",
    "review_until",
    "notice_days",
    "panel_size",
    "reserve_size",
    "avoid_same_city",
    "certificate_years",
    "description",
]
# What may still change once a batch has opened: the dates and length of the stages to come.
LATER_STAGE_FIELDS = {"recommend_until", "review_until", "notice_days"}


def _check_batch(batch: Batch) -> None:
    """Unique (year, sequence) with a readable message, and stage dates in order."""
    try:
        batch.clean_fields(exclude=["uuid"])  # also turns form strings into dates and numbers
    except ValidationError as exc:
        details = messages_of(exc)
        raise ValidationFailed("填写内容有误：" + next(iter(details.values())), details=details) from exc
    clash = Batch.objects.filter(year=batch.year, sequence=batch.sequence).exclude(pk=batch.pk).first()
    if clash is not None:
        message = f"{batch.year}年已有第{batch.sequence}批（{clash.title}）。"
        raise ValidationFailed(message, code="batch_exists", details={"sequence": message})
    if batch.apply_from and batch.apply_until and batch.apply_until < batch.apply_from:
        message = "申报截止日期不能早于开始日期。"
        raise ValidationFailed(message, details={"apply_until": message})
    full_clean_or_raise(batch, exclude=["uuid"])
    errors: dict[str, str] = {}
    if batch.recommend_until and batch.recommend_until < batch.apply_until:
        errors["recommend_until"] = "推荐截止日期不能早于申报截止日期。"
    review_floor = batch.recommend_until or batch.apply_until
    if batch.review_until and batch.review_until < review_floor:
        errors["review_until"] = "评审截止日期不能早于申报（推荐）截止日期。"
    if batch.reserve_size >= batch.panel_size:
        errors["reserve_size"] = "备选专家人数应少于评审专家人数。"
    if errors:
        raise ValidationFailed("填写内容有误：" + next(iter(errors.values())), details=errors)


def _batch_snapshot(batch: Batch) -> dict[str, Any]:
    return audit.snapshot(batch, BATCH_FIELDS)


@transaction.atomic
def batch_create(
    *,
    actor: Any,
    year: int,
    sequence: int,
    title: str,
    apply_from: dt.date,
    apply_until: dt.date,
    **values: Any,
) -> Batch:
    """A new batch (第N批 of a year), as a draft."""
    _require_office(actor)
    batch = Batch(
        year=year,
        sequence=sequence,
        title=(title or "").strip(),
        apply_from=apply_from,
        apply_until=apply_until,
    )
    assign(batch, values, allowed=BATCH_FIELDS)
    _check_batch(batch)
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError as exc:
        raise ConflictError(f"{year}年第{sequence}批刚刚已被创建。") from exc
    audit.record("evaluation.batch.created", target=batch, actor=actor, new=_batch_snapshot(batch))
    return batch


@transaction.atomic
def batch_update(*, actor: Any, batch: Batch, **values: Any) -> Batch:
    """Change a draft batch; once open, only the dates and length of later stages change."""
    _require_office(actor)
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in {B.DRAFT, B.OPEN, B.REVIEWING}:
        raise ConflictError(f"批次{batch.get_status_display()}，不能修改。", code="batch_frozen")
    old, new = assign(batch, values, allowed=BATCH_FIELDS)
    # Only what actually changes counts: a form may send every field back unchanged.
    frozen = sorted(set(new) - LATER_STAGE_FIELDS) if batch.status != B.DRAFT else []
    if frozen:
        labels = "、".join(_label(Batch, f) for f in frozen)
        raise ValidationFailed(
            f"批次{batch.get_status_display()}，只能调整推荐截止日期、评审截止日期和公示期，"
            f"不能修改{labels}。",
            code="batch_frozen",
            details={name: "批次开始后不能修改。" for name in frozen},
        )
    _check_batch(batch)
    if new:
        batch.save()
        audit.record("evaluation.batch.updated", target=batch, actor=actor, old=old, new=new)
    return batch


def _lock_batch(batch: Batch, allowed: set[str], what: str) -> Batch:
    locked = Batch.objects.select_for_update().get(pk=batch.pk)
    if locked.status not in allowed:
        raise ConflictError(f"批次{locked.get_status_display()}，不能{what}。", code="batch_frozen")
    return locked


@transaction.atomic
def batch_rule_set_attach(*, actor: Any, batch: Batch, rule_set: RuleSet) -> BatchRuleSet:
    """Apply a published rule set to the batch's brands of its (level-2 category, brand type)."""
    _require_office(actor)
    batch = _lock_batch(batch, {B.DRAFT, B.OPEN}, "调整评价细则")
    rule_set = RuleSet.objects.select_related("category", "brand_type").get(pk=rule_set.pk)
    if rule_set.status != RuleSet.Status.PUBLISHED:
        raise ValidationFailed(
            f"“{rule_set}”{rule_set.get_status_display()}，只能选用已发布的评价细则。",
            code="ruleset_not_published",
            details={"rule_set": "请选择已发布的评价细则。"},
        )
    if rule_set.category.level != 2:
        raise ValidationFailed(
            f"“{rule_set}”适用于“{rule_set.category.name}”，批次须按二级类别设置评价细则。",
            details={"rule_set": "请选择适用于二级类别的评价细则。"},
        )
    existing = (
        batch.rule_sets.select_related("rule_set")
        .filter(rule_set__category_id=rule_set.category_id, rule_set__brand_type_id=rule_set.brand_type_id)
        .first()
    )
    if existing is not None:
        message = (
            f"本批次已为“{rule_set.category.name}·{rule_set.brand_type.name}”选用“{existing.rule_set}”；"
            "如需更换，请先移除。"
        )
        raise ValidationFailed(message, code="ruleset_taken", details={"rule_set": message})
    link = BatchRuleSet.objects.create(batch=batch, rule_set=rule_set)
    audit.record(
        "evaluation.batch.rules_changed",
        target=batch,
        actor=actor,
        new={"rule_set_added": rule_set.pk, "version": rule_set.version, "category": rule_set.category_id},
    )
    return link


@transaction.atomic
def batch_rule_set_detach(*, actor: Any, batch: Batch, rule_set: RuleSet) -> None:
    _require_office(actor)
    batch = _lock_batch(batch, {B.DRAFT, B.OPEN}, "调整评价细则")
    link = batch.rule_sets.filter(rule_set=rule_set).first()
    if link is None:
        raise NotFoundError("本批次未选用该评价细则。")
    used = batch.applications.filter(rule_set=rule_set).count()
    if used:
        raise ConflictError(f"已有 {used} 项申报按“{rule_set}”评价，不能移除。", code="ruleset_in_use")
    link.delete()
    audit.record(
        "evaluation.batch.rules_changed", target=batch, actor=actor, old={"rule_set_removed": rule_set.pk}
    )


@transaction.atomic
def batch_quota_set(
    *,
    actor: Any,
    batch: Batch,
    limit: int,
    category: Category | None = None,
    city: Region | None = None,
) -> Quota:
    """Set (create or change) the admission limit of a level-2 category or a city."""
    _require_office(actor)
    batch = _lock_batch(batch, {B.DRAFT, B.OPEN, B.REVIEWING}, "调整名额")
    if (category is None) == (city is None):
        raise ValidationFailed(
            "名额须且只能针对一个类别或一个城市。", details={"category": "请选择类别或城市之一。"}
        )
    if category is not None and category.level != 2:
        raise ValidationFailed("类别名额须针对二级类别。", details={"category": "请选择二级类别。"})
    if city is not None and city.level != Region.Level.CITY:
        raise ValidationFailed("城市名额须针对设区的市。", details={"city": "请选择设区的市。"})
    quota = batch.quotas.filter(category=category, city=city).first() or Quota(
        batch=batch, category=category, city=city
    )
    before = quota.limit if quota.pk else None
    quota.limit = limit
    full_clean_or_raise(quota, exclude=["batch", "category", "city"])
    if before == limit:
        return quota
    quota.save()
    target = {"category": getattr(category, "pk", None), "city": getattr(city, "pk", None)}
    audit.record(
        "evaluation.batch.rules_changed",
        target=batch,
        actor=actor,
        old={"quota": {**target, "limit": before}} if before is not None else None,
        new={"quota": {**target, "limit": limit}},
    )
    return quota


@transaction.atomic
def batch_quota_remove(*, actor: Any, quota: Quota) -> None:
    _require_office(actor)
    batch = _lock_batch(quota.batch, {B.DRAFT, B.OPEN, B.REVIEWING}, "调整名额")
    audit.record(
        "evaluation.batch.rules_changed",
        target=batch,
        actor=actor,
        old={"quota": {"category": quota.category_id, "city": quota.city_id, "limit": quota.limit}},
    )
    quota.delete()


def _batch_apply(batch: Batch, action: str, *, actor: Any) -> workflow.Moved:
    return workflow.apply(BATCH_TRANSITIONS, batch, action, actor=actor, status_labels=BATCH_LABELS)


def _batch_record(moved: workflow.Moved, *, actor: Any, **new: Any) -> Batch:
    audit.record(
        "evaluation.batch.moved",
        target=moved.obj,
        actor=actor,
        old={"status": moved.source},
        new={"status": moved.target, "action": moved.action, **new},
    )
    return moved.obj


def _batch_move(batch: Batch, action: str, *, actor: Any) -> Batch:
    return _batch_record(_batch_apply(batch, action, actor=actor), actor=actor)


@transaction.atomic
def batch_open(*, actor: Any, batch: Batch) -> Batch:
    """Open the application window. The batch needs at least one (still published) rule set."""
    locked = Batch.objects.select_for_update().get(pk=batch.pk)
    if _would_apply(BATCH_TRANSITIONS, locked, "open", actor):
        links = list(locked.rule_sets.select_related("rule_set"))
        if not links:
            raise ValidationFailed("请先为批次选用至少一套评价细则。", code="batch_without_rules")
        retired = [str(link.rule_set) for link in links if link.rule_set.status != RuleSet.Status.PUBLISHED]
        if retired:
            raise ValidationFailed(
                "以下评价细则已停用，请更换后再开始申报：" + "、".join(retired), code="ruleset_not_published"
            )
    result = _batch_move(batch, "open", actor=actor)
    batch.status = result.status
    return result


@transaction.atomic
def batch_close_applications(*, actor: Any, batch: Batch) -> Batch:
    """End the application window; the batch's review goes on."""
    result = _batch_move(batch, "close_applications", actor=actor)
    batch.status = result.status
    return result


@transaction.atomic
def batch_open_notice(*, actor: Any, batch: Batch) -> Batch:
    """Publish the candidate list. Every application of the batch must have been decided."""
    from haopin.evaluation.notices import notice_open

    locked = Batch.objects.select_for_update().get(pk=batch.pk)
    if _would_apply(BATCH_TRANSITIONS, locked, "open_notice", actor):
        pending = selectors.undecided_applications(locked)
        if pending:
            shown = [f"{a.number}（{a.brand.name}，{a.get_status_display()}）" for a in pending]
            raise ValidationFailed(
                f"还有 {len(pending)} 项申报尚未作出决定，不能发布公示："
                + "、".join(shown[:20])
                + ("等。" if len(shown) > 20 else "。"),
                code="batch_undecided",
                details={"applications": [a.number for a in pending]},
            )
    moved = _batch_apply(batch, "open_notice", actor=actor)
    notice = notice_open(actor=actor, batch=moved.obj)
    result = _batch_record(moved, actor=actor, notice=notice.pk)
    batch.status = result.status
    return result


@transaction.atomic
def batch_publish(*, actor: Any, batch: Batch) -> Batch:
    """Publish the result: the candidates on notice become published and get certificates."""
    from haopin.certificates.services import certificates_issue_for_batch
    from haopin.evaluation.notices import notice_unresolved

    locked = Batch.objects.select_for_update().get(pk=batch.pk)
    if _would_apply(BATCH_TRANSITIONS, locked, "publish", actor):
        unresolved = notice_unresolved(locked)
        if unresolved:
            raise ValidationFailed(
                "公示尚未办结，不能发布结果：" + "；".join(unresolved),
                code="notice_unresolved",
                details={"problems": unresolved},
            )
    moved = _batch_apply(batch, "publish", actor=actor)
    result = moved.obj
    published = []
    for application in result.applications.filter(status=S.NOTICE).order_by("number"):
        application_move(application=application, action="publish", actor=actor)
        published.append(application.number)
    result.published_at = timezone.now()
    result.save(update_fields=["published_at", "updated_at"])
    certificates = certificates_issue_for_batch(actor=actor, batch=result)
    _batch_record(moved, actor=actor, published=published, certificates=[c.number for c in certificates])
    batch.status = result.status
    return result


@transaction.atomic
def batch_close(*, actor: Any, batch: Batch) -> Batch:
    result = _batch_move(batch, "close", actor=actor)
    batch.status = result.status
    return result


BATCH_MOVES = {
    "open": batch_open,
    "close_applications": batch_close_applications,
    "open_notice": batch_open_notice,
    "publish": batch_publish,
    "close": batch_close,
}


def batch_move(*, actor: Any, batch: Batch, action: str) -> Batch:
    """Take one move of the batch table by name (for the workspace's buttons and the API)."""
    service = BATCH_MOVES.get(action)
    if service is None:
        raise ValidationFailed(f"未知的操作“{action}”。", code="unknown_action")
    return service(actor=actor, batch=batch)


# --- starting an application --------------------------------------------------------------------


def _check_window(batch: Batch) -> None:
    today = _today()
    if batch.status != B.OPEN or not (batch.apply_from <= today <= batch.apply_until):
        raise ValidationFailed(
            f"“{batch.title}”当前不受理申报（申报时间：{cn_date(batch.apply_from)}至{cn_date(batch.apply_until)}）。",
            code="window_closed",
            details={"batch": "不在申报时间内。"},
        )


def _rule_set_for(batch: Batch, brand: Brand) -> RuleSet:
    category = level2_category(brand.category)
    rule_set = (
        selectors.batch_rule_set_for(batch, category_id=category.pk, brand_type_id=brand.brand_type_id)
        if category is not None
        else None
    )
    if rule_set is None:
        name = category.name if category is not None else brand.category.name
        message = f"本批次未设置“{name}·{brand.brand_type.name}”的评价细则，暂不受理该类品牌申报。"
        raise ValidationFailed(message, code="no_rule_set", details={"brand": message})
    if rule_set.status != RuleSet.Status.PUBLISHED:
        raise ValidationFailed(f"“{rule_set}”已停用，暂不受理该类品牌申报。", code="ruleset_not_published")
    return rule_set


def _create_application(
    *, actor: Any, batch: Batch, brand: Brand, route: str, recommender_id: int | None, summary: str = ""
) -> Application:
    # The batch row lock orders new applications against the office closing the window.
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    brand = Brand.objects.select_related("owner", "category__parent", "brand_type").get(pk=brand.pk)
    _check_window(batch)
    if brand.status != Brand.Status.ACTIVE:
        raise ValidationFailed(
            f"品牌“{brand.name}”当前状态为{brand.get_status_display()}，不能申报。",
            details={"brand": "品牌状态异常。"},
        )
    rule_set = _rule_set_for(batch, brand)
    live = (
        Application.objects.filter(batch=batch, brand=brand)
        .exclude(status__in=[S.WITHDRAWN, S.REJECTED])
        .first()
    )
    if live is not None:
        raise ConflictError(
            f"品牌“{brand.name}”在本批次已有申报（{live.number}，{live.get_status_display()}）。",
            code="application_exists",
        )
    application = Application(
        number=numbering.next_number("SQ", batch.year),
        batch=batch,
        enterprise=brand.owner,
        brand=brand,
        rule_set=rule_set,
        route=route,
        recommender_id=recommender_id,
        summary=(summary or "").strip(),
        created_by=actor,
    )
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as exc:
        raise ConflictError(f"品牌“{brand.name}”在本批次刚刚已有申报。", code="application_exists") from exc
    audit.record(
        "evaluation.application.created",
        target=application,
        actor=actor,
        new=audit.snapshot(
            application, ["number", "batch", "enterprise", "brand", "rule_set", "route", "recommender"]
        ),
    )
    return application


@transaction.atomic
def application_start(*, actor: Any, batch: Batch, brand: Brand) -> Application:
    """The owner of ``brand`` (an enterprise or a regional/GI brand owner) applies in ``batch``."""
    scope = scope_of(actor)
    owner_org = Brand.objects.filter(pk=brand.pk).values_list("owner__organisation_id", flat=True).first()
    if not scope.can_write or owner_org is None or owner_org != scope.organisation_id:
        raise PermissionDeniedError("只有品牌所属单位的经办人员可以申报该品牌。")
    return _create_application(
        actor=actor, batch=batch, brand=brand, route=Application.Route.VOLUNTARY, recommender_id=None
    )


@transaction.atomic
def application_recommend_start(*, actor: Any, batch: Batch, brand: Brand, summary: str = "") -> Application:
    """A city bureau or department recommends an existing registry brand; its owner completes
    the application and submits it, and the recommending unit then recommends it."""
    brand = Brand.objects.select_related("owner__region").get(pk=brand.pk)
    programmes = set(brand.sources.values_list("programme_id", flat=True))
    if not policies.can_recommend_for(
        actor, region_code=brand.owner.region.code, category_id=brand.category_id, programme_ids=programmes
    ):
        raise PermissionDeniedError("该品牌不在您单位的推荐范围内（所属区划、主管类别或来源项目）。")
    application = _create_application(
        actor=actor,
        batch=batch,
        brand=brand,
        route=Application.Route.RECOMMENDED,
        recommender_id=scope_of(actor).organisation_id,
        summary=summary,
    )
    notify(
        users=_writers([brand.owner.organisation_id]),
        kind="evaluation.application.to_complete",
        title=f"待完善申报：{brand.name}（{application.number}）",
        body=(
            f"{application.recommender}推荐贵单位的品牌“{brand.name}”参加“{batch.title}”，"
            f"请在 {cn_date(batch.apply_until)} 前完善申报材料并提交。"
        ),
        url=links.url_of(application),
    )
    return application


# --- filling in an application ------------------------------------------------------------------

EDITABLE = {S.DRAFT, S.RETURNED}
APPLICATION_FIELDS = [
    "summary",
    "competitors",
    "national_rank",
    "provincial_rank",
    "credit_clean",
    "inspection_clean",
]
FIGURE_FIELDS = ["revenue", "profit", "tax", "rd_spend", "export", "employees"]
MAX_COMPETITORS = 20


def _lock_for_applicant(application: Application, actor: Any) -> Application:
    """The application locked for an edit by its owner's writing member, while editable."""
    locked = (
        Application.objects.select_for_update()
        .select_related("batch", "enterprise", "brand", "rule_set")
        .get(pk=application.pk)
    )
    if not policies.is_applicant(actor, locked):
        if not policies.can_view(actor, locked):
            raise NotFoundError()
        raise PermissionDeniedError("只有申报单位的经办人员可以修改申报材料。")
    if locked.status not in EDITABLE:
        raise ConflictError(
            f"申报当前状态为“{locked.get_status_display()}”，只有填报中或退回修改的申报可以修改。",
            code="application_frozen",
        )
    return locked


def _clear_declaration(application: Application, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Any change after signing voids the declaration: it vouched for the earlier content."""
    if application.declaration_signed_at is None:
        return
    old["declaration_signed_by"] = application.declaration_signed_by
    new["declaration_signed_by"] = ""
    application.declaration_signed_by = ""
    application.declaration_signed_at = None
    application.save(update_fields=["declaration_signed_by", "declaration_signed_at", "updated_at"])


def _normalise_competitors(values: Any, own_uscc: str) -> list[str]:
    if isinstance(values, str):
        values = values.replace("，", ",").replace("\n", ",").split(",")
    result: list[str] = []
    for position, raw in enumerate(values or [], start=1):
        raw = (raw or "").strip()
        if not raw:
            continue
        try:
            code = normalise_uscc(raw)
        except ValidationError as exc:
            message = f"第 {position} 个竞争对手“{raw}”：{exc.messages[0]}"
            raise ValidationFailed(message, details={"competitors": message}) from exc
        if code == own_uscc:
            message = "竞争对手不能填写本单位的统一社会信用代码。"
            raise ValidationFailed(message, details={"competitors": message})
        if code not in result:
            result.append(code)
    if len(result) > MAX_COMPETITORS:
        message = f"竞争对手最多填写 {MAX_COMPETITORS} 家。"
        raise ValidationFailed(message, details={"competitors": message})
    return result


@transaction.atomic
def application_update(
    *, actor: Any, application: Application, products: Iterable[Product] | None = None, **values: Any
) -> Application:
    """Change the application's text, declarations, ranks, competitors and covered products."""
    locked = _lock_for_applicant(application, actor)
    values = {k: (v.strip() if isinstance(v, str) and k != "competitors" else v) for k, v in values.items()}
    if "competitors" in values:
        values["competitors"] = _normalise_competitors(values["competitors"], locked.enterprise.uscc)
    _rank(values, "national_rank")
    _rank(values, "provincial_rank")
    old, new = assign(locked, values, allowed=APPLICATION_FIELDS)
    full_clean_or_raise(
        locked, exclude=["uuid", "number", "batch", "enterprise", "brand", "rule_set", "created_by"]
    )
    if products is not None:
        chosen = {p.pk: p for p in products}
        foreign = [p for p in chosen.values() if p.brand_id != locked.brand_id]
        if foreign:
            message = "只能选择本品牌的产品或服务：" + "、".join(str(p) for p in foreign) + " 不属于本品牌。"
            raise ValidationFailed(message, details={"products": message})
        before = sorted(locked.products.values_list("pk", flat=True))
        after = sorted(chosen)
        if before != after:
            locked.products.set(list(chosen.values()))
            old["products"], new["products"] = before, after
    if new:
        locked.save()
        _clear_declaration(locked, old, new)
        audit.record("evaluation.application.updated", target=locked, actor=actor, old=old, new=new)
    return locked


def _figure_value(year: int, name: str, value: Any) -> Any:
    label = f"{year}年{_label(Figure, name)}"
    key = f"figures.{year}.{name}"
    try:
        if name == "employees":
            return int(value)
        number = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError) as exc:
        wanted = "整数" if name == "employees" else "数字"
        raise ValidationFailed(f"{label}须为{wanted}。", details={key: f"请填写{wanted}。"}) from exc
    if not number.is_finite():
        raise ValidationFailed(f"{label}须为数字。", details={key: "请填写数字。"})
    return number


def _rank(values: dict[str, Any], name: str) -> None:
    if name not in values:
        return
    raw = values[name]
    if raw is None or raw == "":
        values[name] = None
        return
    try:
        rank = int(raw)
    except (TypeError, ValueError):
        rank = 0
    if rank < 1:
        raise ValidationFailed("排名须为正整数。", details={name: "排名须为正整数。"})
    values[name] = rank


@transaction.atomic
def application_set_figures(
    *, actor: Any, application: Application, figures: Iterable[Mapping[str, Any]]
) -> list[Figure]:
    """Record key figures (one mapping per year with ``year`` and ``FIGURE_FIELDS``); only the
    three years before the batch year are accepted. Years not given are left as they are."""
    locked = _lock_for_applicant(application, actor)
    allowed_years = selectors.required_years(locked.batch)
    existing = {f.year: f for f in locked.figures.all()}
    seen: set[int] = set()
    rows: list[Figure] = []
    changed_old: dict[str, Any] = {}
    changed_new: dict[str, Any] = {}
    for entry in figures:
        values = dict(entry)
        try:
            year = int(values.pop("year"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed("请填写年度。", details={"figures": "每行须注明年度。"}) from exc
        if year not in allowed_years or year in seen:
            shown = "、".join(str(y) for y in allowed_years)
            message = f"{year}年：主要经济指标只填写 {shown} 三个年度，每年一行。"
            raise ValidationFailed(message, details={f"figures.{year}": message})
        seen.add(year)
        unknown = sorted(set(values) - set(FIGURE_FIELDS))
        if unknown:
            raise ValidationFailed(
                "包含不允许修改的字段：" + "、".join(unknown),
                details={f"figures.{year}.{name}": "未知字段。" for name in unknown},
            )
        figure = existing.get(year) or Figure(application=locked, year=year)
        before = audit.snapshot(figure, FIGURE_FIELDS) if figure.pk else {}
        for name, value in values.items():
            setattr(figure, name, _figure_value(year, name, value))
        try:
            figure.full_clean(exclude=["application"], validate_constraints=False)
        except ValidationError as exc:
            details = {f"figures.{year}.{k}": v[0] for k, v in exc.message_dict.items()}
            raise ValidationFailed(
                f"{year}年数据有误：" + next(iter(details.values())), details=details
            ) from exc
        old_values, new_values = audit.changes(before, audit.snapshot(figure, FIGURE_FIELDS))
        if new_values:
            figure.save()
            changed_old[str(year)], changed_new[str(year)] = old_values, new_values
        rows.append(figure)
    if changed_new:
        locked.save(update_fields=["updated_at"])
        old: dict[str, Any] = {"figures": changed_old}
        new: dict[str, Any] = {"figures": changed_new}
        _clear_declaration(locked, old, new)
        audit.record("evaluation.application.updated", target=locked, actor=actor, old=old, new=new)
    return rows


@transaction.atomic
def application_set_self_assessment(
    *,
    actor: Any,
    application: Application,
    scores: Mapping[str, Any],
    notes: Mapping[str, str] | None = None,
) -> list[SelfAssessment]:
    """Record the applicant's own score (and note) for second-level indicators of the bound
    rule set, keyed by indicator code; 0 ≤ score ≤ the indicator's maximum."""
    locked = _lock_for_applicant(application, actor)
    notes = notes or {}
    leaves = {i.code: i for i in locked.rule_set.indicators.filter(parent__isnull=False)}
    dimensions = set(locked.rule_set.indicators.filter(parent__isnull=True).values_list("code", flat=True))
    existing = {a.indicator_id: a for a in locked.self_assessments.all()}
    errors: dict[str, str] = {}
    parsed: dict[str, Decimal] = {}
    for code in sorted(set(scores) | set(notes)):
        indicator = leaves.get(code)
        if indicator is None:
            errors[f"scores.{code}"] = (
                "请对其下的二级指标逐项自评。" if code in dimensions else "本评价细则没有该指标。"
            )
            continue
        if code not in scores and indicator.pk not in existing:
            errors[f"scores.{code}"] = "请填写自评分。"
            continue
        if code in scores:
            try:
                score = Decimal(str(scores[code]).strip())
            except (InvalidOperation, ValueError):
                errors[f"scores.{code}"] = "自评分须为数字。"
                continue
            if score < 0 or score > indicator.max_score:
                errors[f"scores.{code}"] = f"自评分应在 0 至 {indicator.max_score.normalize():f} 之间。"
                continue
            if score != score.quantize(Decimal("0.1")):
                errors[f"scores.{code}"] = "自评分最多保留一位小数。"
                continue
            parsed[code] = score
    if errors:
        first_key = next(iter(errors))
        raise ValidationFailed(f"指标 {first_key.split('.', 1)[1]}：{errors[first_key]}", details=errors)
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    rows = []
    for code in sorted(set(parsed) | set(notes)):
        indicator = leaves[code]
        entry = existing.get(indicator.pk) or SelfAssessment(application=locked, indicator=indicator)
        before = {"score": audit.jsonable(entry.score) if entry.pk else None, "note": entry.note}
        if code in parsed:
            entry.score = parsed[code]
        if code in notes:
            entry.note = (notes[code] or "").strip()
        after = {"score": audit.jsonable(entry.score), "note": entry.note}
        if before != after:
            entry.save()
            old[code], new[code] = before, after
        rows.append(entry)
    if new:
        locked.save(update_fields=["updated_at"])
        extra_old: dict[str, Any] = {}
        extra_new: dict[str, Any] = {}
        _clear_declaration(locked, extra_old, extra_new)
        audit.record(
            "evaluation.application.updated",
            target=locked,
            actor=actor,
            old={"self_assessment": old, **extra_old},
            new={"self_assessment": new, **extra_new},
        )
    return rows


@transaction.atomic
def application_evidence_add(
    *,
    actor: Any,
    application: Application,
    upload: IO[bytes],
    name: str,
    title: str,
    indicator: Indicator | None = None,
) -> Evidence:
    """Upload an evidence file (stored by the registry, checked by content) for the application."""
    from haopin.registry.services import document_upload

    locked = _lock_for_applicant(application, actor)
    title = (title or "").strip() or name
    if indicator is not None and indicator.rule_set_id != locked.rule_set_id:
        raise ValidationFailed(
            "所选指标不属于本申报适用的评价细则。", details={"indicator": "请选择本细则的指标。"}
        )
    document = document_upload(
        actor=actor,
        upload=upload,
        name=name,
        purpose=Document.Purpose.EVIDENCE,
        brand=locked.brand,
        title=title[:120],
    )
    evidence = Evidence(application=locked, document=document, indicator=indicator, title=title[:120])
    full_clean_or_raise(evidence, exclude=["application", "document"])
    evidence.save()
    old: dict[str, Any] = {}
    new: dict[str, Any] = {
        "evidence": evidence.pk,
        "title": evidence.title,
        "document": document.pk,
        "sha256": document.sha256,
        "indicator": getattr(indicator, "code", None),
    }
    locked.save(update_fields=["updated_at"])
    _clear_declaration(locked, old, new)
    audit.record(
        "evaluation.application.evidence_added", target=locked, actor=actor, old=old or None, new=new
    )
    return evidence


@transaction.atomic
def application_evidence_remove(*, actor: Any, evidence: Evidence) -> None:
    locked = _lock_for_applicant(evidence.application, actor)
    old: dict[str, Any] = {"evidence": evidence.pk, "title": evidence.title, "document": evidence.document_id}
    new: dict[str, Any] = {}
    evidence.delete()
    locked.save(update_fields=["updated_at"])
    _clear_declaration(locked, old, new)
    audit.record(
        "evaluation.application.evidence_removed", target=locked, actor=actor, old=old, new=new or None
    )


@transaction.atomic
def application_sign_declaration(*, actor: Any, application: Application, name: str) -> Application:
    """Sign the declaration that the application is true and complete (承诺人 and time)."""
    locked = _lock_for_applicant(application, actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写承诺人姓名。", details={"declaration_signed_by": "请填写承诺人姓名。"})
    if len(name) > 50:
        raise ValidationFailed("承诺人姓名过长。", details={"declaration_signed_by": "最多 50 个字符。"})
    locked.declaration_signed_by = name
    locked.declaration_signed_at = timezone.now()
    locked.save(update_fields=["declaration_signed_by", "declaration_signed_at", "updated_at"])
    audit.record(
        "evaluation.application.declaration_signed",
        target=locked,
        actor=actor,
        new={"declaration_signed_by": name, "declaration_signed_at": locked.declaration_signed_at},
    )
    return locked


def application_submit(
    *, actor: Any, application: Application, expected_status: str | None = None
) -> Application:
    """Submit (or resubmit after a return); refused, naming each gap, while incomplete."""
    return application_move(
        application=application, action="submit", actor=actor, expected_status=expected_status
    )


# --- the reviewer's checks: eligibility criteria and veto findings -------------------------------

CHECKABLE = {S.SUBMITTED, S.RECOMMENDED}
VETO_OPEN = REJECTABLE | {S.RETURNED}


@transaction.atomic
def application_check_criterion(
    *, actor: Any, application: Application, criterion: Criterion, met: bool, note: str = ""
) -> CriterionCheck:
    """Record the office's decision on a manual criterion, or overrule a missing figure."""
    _require_office(actor, "只有省质量强省办可以审查资格条件。")
    locked = (
        Application.objects.select_for_update().select_related("batch", "enterprise").get(pk=application.pk)
    )
    if locked.status not in CHECKABLE:
        raise ConflictError(
            f"申报当前状态为“{locked.get_status_display()}”，资格条件在资格审查阶段核查。",
            code="application_frozen",
        )
    if criterion.rule_set_id != locked.rule_set_id:
        raise ValidationFailed(
            "该资格条件不属于本申报适用的评价细则。", details={"criterion": "条件不属于本细则。"}
        )
    note = (note or "").strip()
    if criterion.is_automatic:
        value = facts.application_facts(locked).get(criterion.metric)
        if value is not None and value != "":
            raise ValidationFailed(
                f"资格条件 {criterion.code} 由系统根据申报数据自动判定，不能人工修改；"
                "如数据有误，请退回申报单位更正。",
                code="criterion_automatic",
                details={"criterion": "该条件自动判定。"},
            )
        if not note:
            raise ValidationFailed(
                "申报材料缺少该项数据，人工认定时须说明依据。", details={"note": "请说明认定依据。"}
            )
    if not isinstance(met, bool):
        raise ValidationFailed("请选择是否满足。", details={"met": "请选择是否满足。"})
    check = CriterionCheck.objects.filter(application=locked, criterion=criterion).first()
    old = {"met": check.met, "note": check.note} if check else None
    if check is None:
        check = CriterionCheck(application=locked, criterion=criterion, checked_by=actor)
    check.met, check.note, check.checked_by = met, note[:300], actor
    check.save()
    audit.record(
        "evaluation.application.criterion_checked",
        target=locked,
        actor=actor,
        old={"criterion": criterion.code, **old} if old else None,
        new={"criterion": criterion.code, "met": met, "note": check.note},
    )
    return check


def _is_declared_expert(actor: Any, application: Application) -> bool:
    profile = policies.expert_profile(actor)
    return (
        profile is not None
        and Assignment.objects.filter(
            application=application, expert=profile, status__in=policies.DECLARED
        ).exists()
    )


@transaction.atomic
def application_document_store(
    *, actor: Any, application: Application, upload: IO[bytes], name: str, title: str = ""
) -> Document:
    """Store a file about an application for someone who decides on it or reviews it — the
    office, its recommending unit, or a declared expert (evidence for a veto item, a decision
    document) — through the registry's checks (size, sniffed type, checksum)."""
    from haopin.registry.services import document_store

    if not (
        policies.is_office(actor)
        or policies.is_recommender(actor, application)
        or _is_declared_expert(actor, application)
    ):
        if not policies.can_view(actor, application):
            raise NotFoundError()
        raise PermissionDeniedError("您无权为该申报上传文件。")
    return document_store(
        actor=actor,
        upload=upload,
        name=name,
        purpose=Document.Purpose.EVIDENCE,
        enterprise=application.enterprise,
        title=(title or name)[:120],
    )


@transaction.atomic
def veto_raise(
    *,
    actor: Any,
    application: Application,
    veto_item: VetoItem,
    note: str,
    document: Document | None = None,
) -> VetoFinding:
    """Raise a veto item against an application, by the office or by an assigned expert who
    has declared no conflict (during the expert review)."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    by_office = policies.is_office(actor)
    if not by_office:
        if not _is_declared_expert(actor, locked):
            if not policies.can_view(actor, locked):
                raise NotFoundError()
            raise PermissionDeniedError("只有省质量强省办和本申报的评审专家可以提出否决情形。")
        if locked.status != S.EXPERT_REVIEW:
            raise ConflictError("专家只能在专家评审期间提出否决情形。", code="application_frozen")
    if locked.status not in VETO_OPEN:
        raise ConflictError(
            f"申报当前状态为“{locked.get_status_display()}”，不能提出否决情形。", code="application_frozen"
        )
    if veto_item.rule_set_id != locked.rule_set_id:
        raise ValidationFailed(
            "该否决项不属于本申报适用的评价细则。", details={"veto_item": "否决项不属于本细则。"}
        )
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("请说明否决情形的具体情况。", details={"note": "请填写情况说明。"})
    pending = VetoFinding.objects.filter(
        application=locked, veto_item=veto_item, status=VetoFinding.Status.RAISED
    ).exists()
    if pending:
        raise ConflictError(f"否决项 {veto_item.code} 已被提出，正在核实。", code="veto_pending")
    finding = VetoFinding.objects.create(
        application=locked, veto_item=veto_item, note=note, document=document, raised_by=actor
    )
    audit.record(
        "evaluation.veto.raised",
        target=locked,
        actor=actor,
        new={
            "finding": finding.pk,
            "veto_item": veto_item.code,
            "note": note,
            "document": getattr(document, "pk", None),
        },
    )
    if not by_office:
        notify(
            users=recipients.office_staff(),
            kind="evaluation.veto.raised",
            title=f"待核实否决情形：{locked.number}",
            body=f"评审专家对申报 {locked.number} 提出否决情形 {veto_item.code}：{note}",
            url=links.url_of(locked),
        )
    return finding


@transaction.atomic
def veto_resolve(*, actor: Any, finding: VetoFinding, confirmed: bool, resolution: str) -> VetoFinding:
    """The office confirms (the application is then to be rejected) or dismisses a finding."""
    _require_office(actor, "只有省质量强省办可以核实否决情形。")
    locked = (
        VetoFinding.objects.select_for_update().select_related("veto_item", "application").get(pk=finding.pk)
    )
    if locked.status != VetoFinding.Status.RAISED:
        raise ConflictError(f"该否决情形已{locked.get_status_display()}。", code="veto_resolved")
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationFailed("请填写核实意见。", details={"resolution": "请填写核实意见。"})
    locked.status = VetoFinding.Status.CONFIRMED if confirmed else VetoFinding.Status.DISMISSED
    locked.resolution = resolution
    locked.resolved_by = actor
    locked.save(update_fields=["status", "resolution", "resolved_by"])
    audit.record(
        "evaluation.veto.resolved",
        target=locked.application,
        actor=actor,
        old={"finding": locked.pk, "status": VetoFinding.Status.RAISED},
        new={"finding": locked.pk, "status": locked.status, "resolution": resolution},
    )
    finding.status = locked.status
    return locked


# --- moving an application through the review -------------------------------------------------

# Forward decisions of the office that a pending or confirmed veto finding stops.
VETO_BLOCKED = {"qualify", "check", "consult", "approve"}


def _move_rule(action: str, locked: Application, deadline: dt.date | None) -> None:
    """The domain rule of ``action`` beyond the table (state, actor and required fields)."""
    if action == "submit":
        gaps = selectors.application_gaps(locked)
        if gaps:
            raise ValidationFailed(
                "申报材料尚不完整，不能提交：" + "".join(gaps.values()),
                code="application_incomplete",
                details=gaps,
            )
    if (
        action == "return"
        and deadline is not None
        and (not isinstance(deadline, dt.date) or deadline <= _today())
    ):
        raise ValidationFailed(
            "整改期限须晚于今天。", code="deadline_past", details={"deadline": "整改期限须晚于今天。"}
        )
    problems: list[str] = []
    if action == "qualify":
        problems += facts.eligibility(locked).problems
    if action in VETO_BLOCKED:
        findings = locked.veto_findings.select_related("veto_item")
        problems += facts.veto_problems(findings)
    if action == "approve":
        problems += _ranking_problems(locked)
    if problems:
        label = APPLICATION_TRANSITIONS[action].label
        raise ValidationFailed(
            f"不能“{label}”：" + "；".join(problems) + "。",
            code="review_blocked",
            details={"problems": problems},
        )


def _ranking_problems(application: Application) -> list[str]:
    """Why the scores do not admit ``application`` (final approval needs the pass line and a
    place in the quotas; ``scoring`` sets both when the office aggregates)."""
    if application.score_total is None or application.passed is None:
        return ["尚未汇总专家评分"]
    if not application.passed:
        return [f"总分 {application.score_total} 分，未达到合格分数线 {application.rule_set.pass_line} 分"]
    if application.quota_tie and application.within_quota is None:
        return ["与其他申报同分争夺名额，须先裁定名额"]
    if application.within_quota is False:
        return ["超出本批次名额"]
    return []


# Moves the applicant is not told about here: their own (submit, withdraw), and the moves whole
# batches make, which the services that make them announce (the expert draw, the notice, the
# certificates issued on publication).
NOT_ANNOUNCED_TO_APPLICANT = {
    "submit",
    "withdraw",
    "start_review",
    "complete_review",
    "open_notice",
    "publish",
}


def _notify_move(
    application: Application, action: str, opinion: str, deadline: dt.date | None, actor: Any
) -> None:
    """Tell whoever must act next, and the applicant's members about every decision."""
    move = APPLICATION_TRANSITIONS[action]
    brand = application.brand.name
    url = links.url_of(application)
    if action == "submit":
        notify(
            users=_writers(o.pk for o in recommending_organisations(application)),
            kind="evaluation.application.submitted",
            title=f"待推荐：{brand}（{application.number}）",
            body=f"{application.enterprise.name}已提交“{application.batch.title}”的申报，请审核并提出推荐意见。",
            url=url,
        )
    elif action == "recommend":
        unit = Organisation.objects.filter(pk=scope_of(actor).organisation_id or 0).values_list(
            "name", flat=True
        )
        notify(
            users=recipients.office_staff(),
            kind="evaluation.application.recommended",
            title=f"待资格审查：{brand}（{application.number}）",
            body=f"{unit.first() or ''}已推荐该申报。推荐意见：{opinion}",
            url=url,
        )
    if action in NOT_ANNOUNCED_TO_APPLICANT:
        return
    lines = [
        f"贵单位品牌“{brand}”在“{application.batch.title}”中的申报（{application.number}）：{move.label}。"
    ]
    if opinion:
        lines.append(f"意见：{opinion}")
    if action == "return" and deadline is not None:
        lines.append(f"整改期限：{cn_date(deadline)}。请在期限内修改后重新提交。")
    notify(
        users=recipients.members_of([application.enterprise.organisation_id]),
        kind="evaluation.application.decided",
        title=f"申报{move.label}：{brand}（{application.number}）",
        body="\n".join(lines),
        url=url,
    )


@transaction.atomic
def application_move(
    *,
    application: Application,
    action: str,
    actor: Any,
    opinion: str = "",
    deadline: dt.date | None = None,
    document: Any = None,
    expected_status: str | None = None,
) -> Application:
    """Apply one move of the review table to ``application`` and record it (Decision + audit).

    Every decision goes through here — from the workspace, the API and batch operations — so
    each application's history is complete. ``expected_status`` (the status the deciding person
    saw) turns a lost race into a clear "already handled by someone else". The row is locked
    before the domain rule is checked, so the rule holds for the state that is moved.
    """
    opinion = (opinion or "").strip()
    locked = (
        Application.objects.select_for_update()
        .select_related("batch", "enterprise__region", "brand__category", "rule_set")
        .get(pk=application.pk)
    )
    if _would_apply(APPLICATION_TRANSITIONS, locked, action, actor, expected_status):
        _move_rule(action, locked, deadline)
    moved = workflow.apply(
        APPLICATION_TRANSITIONS,
        locked,
        action,
        actor=actor,
        status_labels=APPLICATION_LABELS,
        expected_status=expected_status,
        opinion=opinion,
        deadline=deadline,
    )
    locked = moved.obj
    extra: list[str] = []
    if action == "return":
        locked.return_deadline = deadline
        extra.append("return_deadline")
    elif action == "submit":
        locked.return_deadline = None
        locked.submitted_at = timezone.now()
        extra += ["return_deadline", "submitted_at"]
    if extra:
        locked.save(update_fields=extra)
    Decision.objects.create(
        application=locked,
        action=action,
        from_status=moved.source,
        to_status=moved.target,
        actor=actor,
        organisation_id=scope_of(actor).organisation_id,
        opinion=opinion,
        deadline=deadline,
        document=document,
    )
    audit.record(
        "evaluation.application.moved",
        target=locked,
        actor=actor,
        old={"status": moved.source},
        new={
            "status": moved.target,
            "action": action,
            "opinion": opinion,
            "deadline": deadline,
            "document": getattr(document, "pk", None),
        },
    )
    _notify_move(locked, action, opinion, deadline, actor)
    application.status = locked.status
    application.return_deadline = locked.return_deadline
    application.submitted_at = locked.submitted_at
    return locked
