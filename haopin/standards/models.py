"""The standards catalogue and the evaluation rule sets (评价细则).

A rule set belongs to a category and a brand type and is versioned: while a draft it can be
edited; once published it is immutable (services refuse every change, and applications stay
bound to the version they were evaluated under); a change makes a new draft version.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Standard(models.Model):
    class Level(models.TextChoices):
        NATIONAL = "national", "国家标准"
        INDUSTRY = "industry", "行业标准"
        LOCAL = "local", "地方标准"
        GROUP = "group", "团体标准"
        ENTERPRISE = "enterprise", "企业标准"

    class Status(models.TextChoices):
        CURRENT = "current", "现行"
        SUPERSEDED = "superseded", "被代替"
        WITHDRAWN = "withdrawn", "废止"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(
        "标准编号", max_length=40, unique=True, error_messages={"unique": "该标准编号已在目录中。"}
    )
    title = models.CharField("标准名称", max_length=200)
    title_en = models.CharField("英文名称", max_length=300, blank=True)
    level = models.CharField("层级", max_length=12, choices=Level.choices)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.CURRENT)
    issuer = models.CharField("发布单位", max_length=100, blank=True)
    published_on = models.DateField("发布日期", null=True, blank=True)
    effective_on = models.DateField("实施日期", null=True, blank=True)
    withdrawn_on = models.DateField("废止日期", null=True, blank=True)
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name="代替标准",
    )
    categories = models.ManyToManyField(
        "core.Category", blank=True, related_name="standards", verbose_name="适用类别"
    )
    is_haopin = models.BooleanField("好品山东团体标准", default=False)
    file = models.FileField("标准文本", upload_to="standards/%Y/", blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "标准"
        indexes = [models.Index(fields=["level", "status"])]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("standards:standard-detail", args=[self.uuid])


class RuleSet(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"
        RETIRED = "retired", "已停用"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    category = models.ForeignKey(
        "core.Category", on_delete=models.PROTECT, related_name="rule_sets", verbose_name="适用类别"
    )
    brand_type = models.ForeignKey(
        "core.BrandType", on_delete=models.PROTECT, related_name="+", verbose_name="品牌类型"
    )
    version = models.PositiveIntegerField("版本", default=1)
    title = models.CharField("名称", max_length=120)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    pass_line = models.DecimalField(
        "合格分数线",
        max_digits=5,
        decimal_places=1,
        default=Decimal("80.0"),
        validators=[MinValueValidator(0)],
    )
    note = models.TextField("说明", blank=True)
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="上一版本"
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["category__code", "brand_type__position", "-version"]
        verbose_name = verbose_name_plural = "评价细则"
        constraints = [
            models.UniqueConstraint(
                fields=["category", "brand_type", "version"], name="ruleset_unique_version"
            ),
            # At most one draft per category and type: a new version starts from the latest.
            models.UniqueConstraint(
                fields=["category", "brand_type"], condition=Q(status="draft"), name="ruleset_one_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（第 {self.version} 版）"

    def get_absolute_url(self) -> str:
        return reverse("standards:ruleset-detail", args=[self.uuid])

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class Indicator(models.Model):
    """A first-level dimension (quality, innovation, …) or a second-level scored indicator."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="indicators")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    code = models.CharField("编号", max_length=10)
    name = models.CharField("指标", max_length=100)
    max_score = models.DecimalField(
        "分值", max_digits=5, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))]
    )
    guidance = models.TextField("评分要点", blank=True)
    position = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ["rule_set", "position", "code"]
        verbose_name = verbose_name_plural = "评价指标"
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "code"],
                name="indicator_unique_code",
                violation_error_message="编号已存在。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_leaf(self) -> bool:
        return self.parent_id is not None


class VetoItem(models.Model):
    """An item that excludes an application outright when it applies (否决项)."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="veto_items")
    code = models.CharField("编号", max_length=10)
    text = models.CharField("否决情形", max_length=300)
    position = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ["rule_set", "position", "code"]
        verbose_name = verbose_name_plural = "否决项"
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "code"], name="veto_unique_code", violation_error_message="编号已存在。"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


class Criterion(models.Model):
    """An eligibility criterion (资格条件). Automatic ones compare a figure of the application
    with a threshold; manual ones are checked by the reviewer."""

    class Metric(models.TextChoices):
        YEARS_REGISTERED = "years_registered", "在鲁注册年限（年）"
        REVENUE = "revenue", "上年度营业收入（万元）"
        RD_RATIO = "rd_ratio", "研发投入占营业收入比例（%）"
        NATIONAL_RANK = "national_rank", "全国细分行业排名"
        PROVINCIAL_RANK = "provincial_rank", "全省细分行业排名"
        CREDIT_CLEAN = "credit_clean", "近三年无严重失信记录"
        INSPECTION_CLEAN = "inspection_clean", "近三年无产品质量抽查不合格"

    class Operator(models.TextChoices):
        GE = "ge", "≥"
        GT = "gt", ">"
        LE = "le", "≤"
        LT = "lt", "<"
        IS_TRUE = "true", "是"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="criteria")
    code = models.CharField("编号", max_length=10)
    text = models.CharField("资格条件", max_length=300)
    metric = models.CharField(
        "自动判定指标",
        max_length=20,
        choices=Metric.choices,
        blank=True,
        help_text="留空表示由审查人员人工判定。",
    )
    operator = models.CharField("比较方式", max_length=4, choices=Operator.choices, blank=True)
    threshold = models.DecimalField("阈值", max_digits=14, decimal_places=2, null=True, blank=True)
    group = models.CharField(
        "满足其一即可（组）",
        max_length=10,
        blank=True,
        help_text="同组条件满足其一即可，如“全国前20或全省前5”。",
    )
    position = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ["rule_set", "position", "code"]
        verbose_name = verbose_name_plural = "资格条件"
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "code"],
                name="criterion_unique_code",
                violation_error_message="编号已存在。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"

    @property
    def is_automatic(self) -> bool:
        return bool(self.metric)
