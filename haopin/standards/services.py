"""Writes to the standards catalogue and to rule sets.

A rule set is edited only while it is a draft; ``ruleset_publish`` checks it is complete and
consistent (the second-level scores add up to their dimension, the dimensions to 100, automatic
criteria have a comparison) and freezes it. ``ruleset_new_version`` copies a published rule set
into the next draft version, which is how rules change without touching past evaluations.
"""

from __future__ import annotations

from decimal import Decimal
from typing import IO, Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from haopin.core import audit
from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.models import BrandType, Category
from haopin.core.writes import assign, full_clean_or_raise
from haopin.registry import uploads
from haopin.registry.validation import normalise_standard_code
from haopin.standards import policies
from haopin.standards.models import Criterion, Indicator, RuleSet, Standard, VetoItem

AUDIT_ACTIONS = {
    "standards.standard.created": "新增标准",
    "standards.standard.updated": "修改标准",
    "standards.standard.file_uploaded": "上传标准文本",
    "standards.ruleset.created": "新建评价细则",
    "standards.ruleset.updated": "修改评价细则",
    "standards.ruleset.item_added": "新增细则条目",
    "standards.ruleset.item_updated": "修改细则条目",
    "standards.ruleset.item_removed": "删除细则条目",
    "standards.ruleset.imported": "导入评价细则",
    "standards.ruleset.published": "发布评价细则",
    "standards.ruleset.versioned": "创建细则新版本",
    "standards.ruleset.retired": "停用评价细则",
}

TOTAL_SCORE = Decimal("100")
STANDARD_FIELDS = [
    "title",
    "title_en",
    "level",
    "status",
    "issuer",
    "published_on",
    "effective_on",
    "withdrawn_on",
    "replaced_by",
    "is_haopin",
]


def _require_maintainer(actor: Any) -> None:
    if not policies.can_maintain(actor):
        raise PermissionDeniedError("只有省质量强省办可以维护标准和评价细则。")


def level_of(code: str) -> str:
    """The level a standard code implies: GB → national, DBxx → local, T/ → group, Q/ → enterprise,
    any other two-letter prefix (QB/T, NY/T, …) → industry."""
    prefix = code.split(" ", 1)[0]
    if prefix.startswith("GB"):
        return Standard.Level.NATIONAL
    if prefix.startswith("DB"):
        return Standard.Level.LOCAL
    if prefix.startswith("T/"):
        return Standard.Level.GROUP
    if prefix.startswith("Q/"):
        return Standard.Level.ENTERPRISE
    return Standard.Level.INDUSTRY


# --- standards ---------------------------------------------------------------------------------


@transaction.atomic
def standard_create(
    *, actor: Any, code: str, title: str, categories: list[Category] | None = None, **values: Any
) -> Standard:
    _require_maintainer(actor)
    try:
        code = normalise_standard_code(code)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={"code": exc.messages[0]}) from exc
    if Standard.objects.filter(code=code).exists():
        raise ValidationFailed(f"标准“{code}”已在目录中。", details={"code": "该标准编号已在目录中。"})
    standard = Standard(
        code=code, title=(title or "").strip(), level=values.pop("level", "") or level_of(code)
    )
    assign(standard, values, allowed=STANDARD_FIELDS)
    full_clean_or_raise(standard)
    try:
        with transaction.atomic():
            standard.save()
    except IntegrityError as exc:
        raise ConflictError(f"标准“{code}”刚刚已被登记。") from exc
    if categories:
        standard.categories.set(categories)
    audit.record(
        "standards.standard.created",
        target=standard,
        actor=actor,
        new=audit.snapshot(standard, ["code", *STANDARD_FIELDS, "categories"]),
    )
    return standard


@transaction.atomic
def standard_update(
    *, actor: Any, standard: Standard, categories: list[Category] | None = None, **values: Any
) -> Standard:
    _require_maintainer(actor)
    standard = Standard.objects.select_for_update().get(pk=standard.pk)
    old, new = assign(standard, values, allowed=STANDARD_FIELDS)
    if standard.replaced_by_id == standard.pk:
        raise ValidationFailed("标准不能代替自身。", details={"replaced_by": "标准不能代替自身。"})
    full_clean_or_raise(standard)
    if categories is not None:
        before = sorted(standard.categories.values_list("pk", flat=True))
        after = sorted(c.pk for c in categories)
        if before != after:
            standard.categories.set(categories)
            old["categories"], new["categories"] = before, after
    if new:
        standard.save()
        audit.record("standards.standard.updated", target=standard, actor=actor, old=old, new=new)
    return standard


@transaction.atomic
def standard_attach_file(*, actor: Any, standard: Standard, upload: IO[bytes]) -> Standard:
    _require_maintainer(actor)
    checked = uploads.check_upload(upload, allowed={uploads.PDF})
    standard = Standard.objects.select_for_update().get(pk=standard.pk)
    from django.core.files import File

    standard.file.save(f"{standard.uuid.hex}.pdf", File(upload), save=False)
    standard.file_sha256 = checked.sha256
    standard.save(update_fields=["file", "file_sha256", "updated_at"])
    audit.record(
        "standards.standard.file_uploaded",
        target=standard,
        actor=actor,
        new={"sha256": checked.sha256, "size": checked.size},
    )
    return standard


# --- rule sets ---------------------------------------------------------------------------------


def _lock_draft(rule_set: RuleSet) -> RuleSet:
    locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if not locked.is_editable:
        raise ConflictError(
            f"“{locked}”已{locked.get_status_display()}，不可修改；如需调整，请创建新版本。",
            code="ruleset_frozen",
        )
    return locked


@transaction.atomic
def ruleset_create(
    *,
    actor: Any,
    category: Category,
    brand_type: BrandType,
    title: str,
    pass_line: Decimal = Decimal("80"),
    note: str = "",
) -> RuleSet:
    """A new rule set for a (category, brand type), as a draft of the next version number."""
    _require_maintainer(actor)
    if RuleSet.objects.filter(category=category, brand_type=brand_type, status=RuleSet.Status.DRAFT).exists():
        raise ValidationFailed(
            f"“{category.name}·{brand_type.name}”已有草稿版本，请在草稿上修改。", code="draft_exists"
        )
    latest = RuleSet.objects.filter(category=category, brand_type=brand_type).aggregate(v=Max("version"))["v"]
    rule_set = RuleSet(
        category=category,
        brand_type=brand_type,
        title=(title or "").strip(),
        pass_line=pass_line,
        note=note,
        version=(latest or 0) + 1,
    )
    full_clean_or_raise(rule_set)
    rule_set.save()
    audit.record(
        "standards.ruleset.created",
        target=rule_set,
        actor=actor,
        new=audit.snapshot(rule_set, ["category", "brand_type", "version", "title", "pass_line"]),
    )
    return rule_set


@transaction.atomic
def ruleset_update(*, actor: Any, rule_set: RuleSet, **values: Any) -> RuleSet:
    _require_maintainer(actor)
    rule_set = _lock_draft(rule_set)
    old, new = assign(rule_set, values, allowed={"title", "pass_line", "note"})
    full_clean_or_raise(rule_set)
    if new:
        rule_set.save()
        audit.record("standards.ruleset.updated", target=rule_set, actor=actor, old=old, new=new)
    return rule_set


ITEM_MODELS: dict[str, type[Indicator] | type[VetoItem] | type[Criterion]] = {
    "indicator": Indicator,
    "veto": VetoItem,
    "criterion": Criterion,
}
ITEM_FIELDS = {
    "indicator": ["parent", "code", "name", "max_score", "guidance", "position"],
    "veto": ["code", "text", "position"],
    "criterion": ["code", "text", "metric", "operator", "threshold", "group", "position"],
}


def _check_item(kind: str, item: Any) -> None:
    if kind == "indicator" and item.parent_id is not None:
        parent = item.parent
        if parent.rule_set_id != item.rule_set_id or parent.parent_id is not None:
            raise ValidationFailed("上级指标必须是本细则的一级指标。", details={"parent": "请选择一级指标。"})
    if kind == "criterion":
        if item.metric and not item.operator:
            raise ValidationFailed("自动判定的条件须选择比较方式。", details={"operator": "请选择比较方式。"})
        if item.metric and item.operator != Criterion.Operator.IS_TRUE and item.threshold is None:
            raise ValidationFailed("自动判定的条件须填写阈值。", details={"threshold": "请填写阈值。"})
        if not item.metric and (item.operator or item.threshold is not None):
            raise ValidationFailed(
                "人工判定的条件不填写比较方式和阈值。", details={"metric": "请选择自动判定指标。"}
            )


@transaction.atomic
def ruleset_item_add(*, actor: Any, rule_set: RuleSet, kind: str, **values: Any) -> Any:
    """Add an indicator, a veto item or an eligibility criterion to a draft."""
    _require_maintainer(actor)
    rule_set = _lock_draft(rule_set)
    model = ITEM_MODELS[kind]
    item = model(rule_set=rule_set)
    assign(item, values, allowed=ITEM_FIELDS[kind])
    full_clean_or_raise(item)
    _check_item(kind, item)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as exc:
        raise ValidationFailed(f"编号“{item.code}”已存在。", details={"code": "编号重复。"}) from exc
    audit.record(
        "standards.ruleset.item_added",
        target=rule_set,
        actor=actor,
        new={"kind": kind, **audit.snapshot(item, ITEM_FIELDS[kind])},
    )
    return item


@transaction.atomic
def ruleset_item_update(*, actor: Any, item: Any, **values: Any) -> Any:
    _require_maintainer(actor)
    kind = next(k for k, m in ITEM_MODELS.items() if isinstance(item, m))
    _lock_draft(item.rule_set)
    item = type(item).objects.select_for_update().get(pk=item.pk)
    old, new = assign(item, values, allowed=ITEM_FIELDS[kind])
    full_clean_or_raise(item)
    _check_item(kind, item)
    if new:
        item.save()
        audit.record(
            "standards.ruleset.item_updated",
            target=item.rule_set,
            actor=actor,
            old={"kind": kind, "code": item.code, **old},
            new=new,
        )
    return item


@transaction.atomic
def ruleset_item_remove(*, actor: Any, item: Any) -> None:
    _require_maintainer(actor)
    kind = next(k for k, m in ITEM_MODELS.items() if isinstance(item, m))
    rule_set = _lock_draft(item.rule_set)
    audit.record(
        "standards.ruleset.item_removed",
        target=rule_set,
        actor=actor,
        old={"kind": kind, **audit.snapshot(item, ITEM_FIELDS[kind])},
    )
    item.delete()


def score_text(value: Decimal) -> str:
    """40.0 → "40", 12.5 → "12.5": scores as people write them."""
    return format(value.normalize(), "f")


def ruleset_problems(rule_set: RuleSet) -> list[str]:
    """Why ``rule_set`` cannot be published yet (empty when it can)."""
    problems: list[str] = []
    indicators = list(rule_set.indicators.all())
    dimensions = [i for i in indicators if i.parent_id is None]
    if not dimensions:
        problems.append("尚未设置一级指标。")
    total = Decimal("0")
    for dimension in dimensions:
        children = [i for i in indicators if i.parent_id == dimension.pk]
        total += dimension.max_score
        if not children:
            problems.append(f"一级指标“{dimension.name}”下没有二级指标。")
            continue
        subtotal = sum((c.max_score for c in children), Decimal("0"))
        if subtotal != dimension.max_score:
            problems.append(
                f"一级指标“{dimension.name}”分值为 {score_text(dimension.max_score)}，"
                f"其二级指标合计 {score_text(subtotal)}，两者应相等。"
            )
    if dimensions and total != TOTAL_SCORE:
        problems.append(f"一级指标分值合计为 {score_text(total)}，应为 {TOTAL_SCORE}。")
    if rule_set.pass_line > TOTAL_SCORE:
        problems.append(f"合格分数线 {score_text(rule_set.pass_line)} 超过满分 {TOTAL_SCORE}。")
    for criterion in rule_set.criteria.all():
        try:
            _check_item("criterion", criterion)
        except ValidationFailed as exc:
            problems.append(f"资格条件 {criterion.code}：{exc.message}")
    return problems


@transaction.atomic
def ruleset_publish(*, actor: Any, rule_set: RuleSet) -> RuleSet:
    _require_maintainer(actor)
    rule_set = _lock_draft(rule_set)
    problems = ruleset_problems(rule_set)
    if problems:
        raise ValidationFailed(
            "评价细则尚不完整，不能发布：" + problems[0],
            code="ruleset_incomplete",
            details={"problems": problems},
        )
    rule_set.status = RuleSet.Status.PUBLISHED
    rule_set.published_at = timezone.now()
    rule_set.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(
        "standards.ruleset.published",
        target=rule_set,
        actor=actor,
        old={"status": "draft"},
        new={"status": "published", "version": rule_set.version},
    )
    return rule_set


@transaction.atomic
def ruleset_retire(*, actor: Any, rule_set: RuleSet) -> RuleSet:
    _require_maintainer(actor)
    rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if rule_set.status != RuleSet.Status.PUBLISHED:
        raise ConflictError("只有已发布的评价细则可以停用。")
    rule_set.status = RuleSet.Status.RETIRED
    rule_set.save(update_fields=["status", "updated_at"])
    audit.record(
        "standards.ruleset.retired",
        target=rule_set,
        actor=actor,
        old={"status": "published"},
        new={"status": "retired"},
    )
    return rule_set


def copy_items(source: RuleSet, target: RuleSet) -> None:
    """Copy indicators (keeping the tree), veto items and criteria from ``source`` to ``target``."""
    mapping: dict[int, Indicator] = {}
    for indicator in source.indicators.filter(parent__isnull=True):
        mapping[indicator.pk] = Indicator.objects.create(
            rule_set=target,
            code=indicator.code,
            name=indicator.name,
            max_score=indicator.max_score,
            guidance=indicator.guidance,
            position=indicator.position,
        )
    Indicator.objects.bulk_create(
        [
            Indicator(
                rule_set=target,
                parent=mapping[cast(int, i.parent_id)],  # parent__isnull=False below
                code=i.code,
                name=i.name,
                max_score=i.max_score,
                guidance=i.guidance,
                position=i.position,
            )
            for i in source.indicators.filter(parent__isnull=False)
        ]
    )
    VetoItem.objects.bulk_create(
        [
            VetoItem(rule_set=target, code=v.code, text=v.text, position=v.position)
            for v in source.veto_items.all()
        ]
    )
    Criterion.objects.bulk_create(
        [
            Criterion(
                rule_set=target,
                code=c.code,
                text=c.text,
                metric=c.metric,
                operator=c.operator,
                threshold=c.threshold,
                group=c.group,
                position=c.position,
            )
            for c in source.criteria.all()
        ]
    )


@transaction.atomic
def ruleset_new_version(*, actor: Any, rule_set: RuleSet) -> RuleSet:
    """Start the next draft version from a published (or retired) rule set."""
    _require_maintainer(actor)
    source = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if source.status == RuleSet.Status.DRAFT:
        raise ConflictError("草稿本身可以直接修改，无需创建新版本。")
    draft = RuleSet.objects.filter(
        category=source.category, brand_type=source.brand_type, status=RuleSet.Status.DRAFT
    ).first()
    if draft is not None:
        raise ConflictError(f"已有草稿版本（第 {draft.version} 版），请在草稿上修改。", code="draft_exists")
    latest = RuleSet.objects.filter(category=source.category, brand_type=source.brand_type).aggregate(
        v=Max("version")
    )["v"]
    new = RuleSet.objects.create(
        category=source.category,
        brand_type=source.brand_type,
        title=source.title,
        pass_line=source.pass_line,
        note=source.note,
        version=latest + 1,
        based_on=source,
    )
    copy_items(source, new)
    audit.record(
        "standards.ruleset.versioned",
        target=new,
        actor=actor,
        new={"based_on": source.pk, "version": new.version},
    )
    return new
