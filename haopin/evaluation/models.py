"""Batches, applications and their review, the expert panels and their scores, public notices
and objections (DOMAIN.md: 自愿申报/组织推荐 → 资格审查 → 舆情调查 → 专家评审 → 征求意见 → 结果审定
→ 公示 → 发布).

The review of an application is a state machine declared in ``evaluation/workflow.py``; every
move is recorded as a ``Decision`` (who, when, opinion, evidence).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Batch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        OPEN = "open", "申报中"
        REVIEWING = "reviewing", "评审中"
        NOTICE = "notice", "公示中"
        PUBLISHED = "published", "已发布"
        CLOSED = "closed", "已结束"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    year = models.PositiveSmallIntegerField(
        "年度", validators=[MinValueValidator(2021), MaxValueValidator(2100)]
    )
    sequence = models.PositiveSmallIntegerField("批次", validators=[MinValueValidator(1)])
    title = models.CharField("名称", max_length=120)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    apply_from = models.DateField("申报开始日期")
    apply_until = models.DateField("申报截止日期")
    recommend_until = models.DateField("推荐截止日期", null=True, blank=True)
    review_until = models.DateField("评审截止日期", null=True, blank=True)
    notice_days = models.PositiveSmallIntegerField(
        "公示期（工作日）", default=7, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    panel_size = models.PositiveSmallIntegerField(
        "评审专家人数", default=7, validators=[MinValueValidator(3), MaxValueValidator(15)]
    )
    reserve_size = models.PositiveSmallIntegerField(
        "备选专家人数", default=2, validators=[MaxValueValidator(10)]
    )
    avoid_same_city = models.BooleanField("回避同城专家", default=True)
    certificate_years = models.PositiveSmallIntegerField(
        "证书有效期（年）", default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    description = models.TextField("申报说明", blank=True)
    published_at = models.DateTimeField("结果发布时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["-year", "-sequence"]
        verbose_name = verbose_name_plural = "评价批次"
        constraints = [
            models.UniqueConstraint(
                fields=["year", "sequence"],
                name="batch_unique_sequence",
                violation_error_message="该年度已有同一批次。",
            ),
            models.CheckConstraint(
                condition=Q(apply_until__gte=models.F("apply_from")),
                name="batch_window_ordered",
                violation_error_message="申报截止日期不能早于开始日期。",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("evaluation:batch-detail", args=[self.uuid])


class BatchRuleSet(models.Model):
    """The rule set a batch applies to one (category, brand type), with an optional quota."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="rule_sets")
    rule_set = models.ForeignKey(
        "standards.RuleSet", on_delete=models.PROTECT, related_name="+", verbose_name="评价细则"
    )

    class Meta:
        ordering = ["batch", "rule_set__category__code"]
        verbose_name = verbose_name_plural = "批次评价细则"
        constraints = [models.UniqueConstraint(fields=["batch", "rule_set"], name="batchruleset_unique")]

    def __str__(self) -> str:
        return f"{self.batch} · {self.rule_set}"


class Quota(models.Model):
    """An upper limit on admissions in a batch, per category or per city."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="quotas")
    category = models.ForeignKey(
        "core.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="类别",
    )
    city = models.ForeignKey(
        "core.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="城市"
    )
    limit = models.PositiveIntegerField("名额", validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["batch", "category", "city"]
        verbose_name = verbose_name_plural = "名额"
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=True) ^ Q(city__isnull=True),
                name="quota_category_xor_city",
                violation_error_message="名额须且只能针对一个类别或一个城市。",
            ),
            models.UniqueConstraint(
                fields=["batch", "category"],
                condition=Q(category__isnull=False),
                name="quota_unique_category",
            ),
            models.UniqueConstraint(
                fields=["batch", "city"], condition=Q(city__isnull=False), name="quota_unique_city"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or self.city}：{self.limit}"


class Application(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "填报中"
        SUBMITTED = "submitted", "待推荐"
        RECOMMENDED = "recommended", "待资格审查"
        QUALIFIED = "qualified", "待舆情与信用核查"
        CHECKED = "checked", "待专家评审"
        EXPERT_REVIEW = "expert_review", "专家评审中"
        REVIEWED = "reviewed", "待征求意见"
        CONSULTED = "consulted", "待结果审定"
        APPROVED = "approved", "待公示"
        NOTICE = "notice", "公示中"
        PUBLISHED = "published", "已入选"
        RETURNED = "returned", "退回修改"
        REJECTED = "rejected", "未通过"
        WITHDRAWN = "withdrawn", "已撤回"

    class Route(models.TextChoices):
        VOLUNTARY = "voluntary", "自愿申报"
        RECOMMENDED = "recommended", "组织推荐"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField("申报编号", max_length=16, unique=True)
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, related_name="applications", verbose_name="批次"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="applications", verbose_name="申报主体"
    )
    brand = models.ForeignKey(
        "registry.Brand", on_delete=models.PROTECT, related_name="applications", verbose_name="申报品牌"
    )
    rule_set = models.ForeignKey(
        "standards.RuleSet",
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name="适用评价细则",
    )
    route = models.CharField("申报方式", max_length=12, choices=Route.choices, default=Route.VOLUNTARY)
    recommender = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recommended_applications",
        verbose_name="推荐单位",
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    products = models.ManyToManyField(
        "registry.Product", blank=True, related_name="applications", verbose_name="申报产品/服务"
    )
    summary = models.TextField("品牌简介与申报理由", blank=True)
    competitors = models.JSONField(
        "主要竞争对手（统一社会信用代码）",
        default=list,
        blank=True,
        help_text="专家抽取时回避这些单位的在职专家。",
    )
    national_rank = models.PositiveIntegerField("全国细分行业排名", null=True, blank=True)
    provincial_rank = models.PositiveIntegerField("全省细分行业排名", null=True, blank=True)
    credit_clean = models.BooleanField("近三年无严重失信记录（申报人承诺）", null=True, blank=True)
    inspection_clean = models.BooleanField("近三年无抽查不合格（申报人承诺）", null=True, blank=True)
    declaration_signed_by = models.CharField("承诺人", max_length=50, blank=True)
    declaration_signed_at = models.DateTimeField("承诺时间", null=True, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    return_deadline = models.DateField("整改期限", null=True, blank=True)
    # Results of the expert review (written by scoring.aggregate, read by the ranking pages).
    score_total = models.DecimalField("综合得分", max_digits=6, decimal_places=2, null=True, blank=True)
    score_spread = models.DecimalField(
        "专家总分标准差", max_digits=6, decimal_places=2, null=True, blank=True
    )
    rank = models.PositiveIntegerField("类别排名", null=True, blank=True)
    passed = models.BooleanField("达到合格分数线", null=True, blank=True)
    within_quota = models.BooleanField("在名额内", null=True, blank=True)
    quota_tie = models.BooleanField("名额线同分待定", default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = verbose_name_plural = "申报"
        constraints = [
            # One live application per brand and batch; withdrawn or rejected ones may be followed
            # by a new one.
            models.UniqueConstraint(
                fields=["batch", "brand"],
                condition=~Q(status__in=["withdrawn", "rejected"]),
                name="application_one_live_per_brand",
                violation_error_message="该品牌在本批次已有申报。",
            ),
        ]
        indexes = [
            models.Index(fields=["batch", "status"]),
            models.Index(fields=["batch", "rule_set", "score_total"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.brand.name}"

    def get_absolute_url(self) -> str:
        return reverse("evaluation:application-detail", args=[self.uuid])


class Figure(models.Model):
    """Key figures of one of the last three years (万元 unless stated)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="figures")
    year = models.PositiveSmallIntegerField("年度")
    revenue = models.DecimalField(
        "营业收入（万元）", max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    profit = models.DecimalField("利润总额（万元）", max_digits=14, decimal_places=2)
    tax = models.DecimalField(
        "纳税额（万元）", max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    rd_spend = models.DecimalField(
        "研发投入（万元）", max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    export = models.DecimalField(
        "出口额（万元）",
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
    )
    employees = models.PositiveIntegerField("从业人数")

    class Meta:
        ordering = ["application", "-year"]
        verbose_name = verbose_name_plural = "主要经济指标"
        constraints = [
            models.UniqueConstraint(
                fields=["application", "year"],
                name="figure_unique_year",
                violation_error_message="该年度的数据已填写。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.year}"

    @property
    def rd_ratio(self) -> Decimal | None:
        if not self.revenue:
            return None
        return (self.rd_spend / self.revenue * 100).quantize(Decimal("0.01"))


class SelfAssessment(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="self_assessments")
    indicator = models.ForeignKey("standards.Indicator", on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField("自评分", max_digits=5, decimal_places=1, validators=[MinValueValidator(0)])
    note = models.TextField("自评说明", blank=True)

    class Meta:
        ordering = ["application", "indicator__position"]
        verbose_name = verbose_name_plural = "自评"
        constraints = [
            models.UniqueConstraint(fields=["application", "indicator"], name="selfassessment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.score}"


class Evidence(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="evidence")
    document = models.ForeignKey("registry.Document", on_delete=models.PROTECT, related_name="+")
    indicator = models.ForeignKey(
        "standards.Indicator",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="对应指标",
    )
    title = models.CharField("材料名称", max_length=120)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        ordering = ["application", "created_at"]
        verbose_name = verbose_name_plural = "证明材料"

    def __str__(self) -> str:
        return self.title


class Decision(models.Model):
    """One move of an application's review: who decided what, when, with which opinion."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField("操作", max_length=20)
    from_status = models.CharField("原状态", max_length=16)
    to_status = models.CharField("新状态", max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opinion = models.TextField("意见", blank=True)
    deadline = models.DateField("整改期限", null=True, blank=True)
    document = models.ForeignKey(
        "registry.Document",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="依据材料",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["application", "created_at", "pk"]
        verbose_name = verbose_name_plural = "审查记录"

    def __str__(self) -> str:
        return f"{self.application.number} {self.action}"


class CriterionCheck(models.Model):
    """A reviewer's decision on an eligibility criterion (automatic ones are recomputed)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="criterion_checks")
    criterion = models.ForeignKey("standards.Criterion", on_delete=models.PROTECT, related_name="+")
    met = models.BooleanField("是否满足")
    note = models.CharField("说明", max_length=300, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField("核查时间", auto_now=True)

    class Meta:
        ordering = ["application", "criterion__position"]
        verbose_name = verbose_name_plural = "资格条件审查"
        constraints = [
            models.UniqueConstraint(fields=["application", "criterion"], name="criterioncheck_unique")
        ]

    def __str__(self) -> str:
        return f"{self.criterion.code}: {self.met}"


class VetoFinding(models.Model):
    """A veto item raised against an application, by a reviewer or an expert, with evidence."""

    class Status(models.TextChoices):
        RAISED = "raised", "待核实"
        CONFIRMED = "confirmed", "已核实（否决）"
        DISMISSED = "dismissed", "不成立"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="veto_findings")
    veto_item = models.ForeignKey("standards.VetoItem", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.RAISED)
    note = models.TextField("情况说明")
    document = models.ForeignKey(
        "registry.Document", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField("核实意见", blank=True)
    created_at = models.DateTimeField("提出时间", auto_now_add=True)

    class Meta:
        ordering = ["application", "created_at"]
        verbose_name = verbose_name_plural = "否决情形"

    def __str__(self) -> str:
        return f"{self.application.number} {self.veto_item.code}"


class PanelDraw(models.Model):
    """A reproducible random draw of expert panels for the applications of one rule set.

    The seed and the parameters are recorded; replaying the draw with them over the same pool
    and applications gives the same panels (``experts.draw_replay``), which is how the draw is audited.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="draws")
    rule_set = models.ForeignKey("standards.RuleSet", on_delete=models.PROTECT, related_name="+")
    seed = models.CharField("随机种子", max_length=64)
    panel_size = models.PositiveSmallIntegerField("每组专家人数")
    reserve_size = models.PositiveSmallIntegerField("备选人数")
    avoid_same_city = models.BooleanField("回避同城")
    pool_digest = models.CharField("专家库摘要", max_length=64)
    result_digest = models.CharField("结果摘要", max_length=64)
    shortfalls = models.JSONField("人数不足的申报", default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("抽取时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "专家抽取"

    def __str__(self) -> str:
        return f"{self.batch} · {self.rule_set} · {self.seed[:8]}"


class Assignment(models.Model):
    class Role(models.TextChoices):
        PANEL = "panel", "评审专家"
        RESERVE = "reserve", "备选专家"

    class Status(models.TextChoices):
        INVITED = "invited", "待声明"
        ACCEPTED = "accepted", "已声明无利益冲突"
        DECLINED = "declined", "已拒绝"
        CONFLICT = "conflict", "声明有利益冲突"
        SUBMITTED = "submitted", "已提交评分"
        STANDBY = "standby", "备选待命"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="assignments")
    expert = models.ForeignKey("accounts.ExpertProfile", on_delete=models.PROTECT, related_name="assignments")
    draw = models.ForeignKey(PanelDraw, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField("角色", max_length=8, choices=Role.choices)
    order = models.PositiveSmallIntegerField("抽取顺序")
    status = models.CharField("状态", max_length=10, choices=Status.choices)
    declared_at = models.DateTimeField("声明时间", null=True, blank=True)
    conflict_note = models.CharField("回避说明", max_length=300, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["application", "role", "order"]
        verbose_name = verbose_name_plural = "专家分配"
        constraints = [models.UniqueConstraint(fields=["application", "expert"], name="assignment_unique")]
        indexes = [models.Index(fields=["expert", "status"])]

    def __str__(self) -> str:
        return f"{self.application.number} · {self.expert}"


class Score(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey("standards.Indicator", on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField("得分", max_digits=5, decimal_places=1, validators=[MinValueValidator(0)])
    comment = models.TextField("评语")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["assignment", "indicator__position"]
        verbose_name = verbose_name_plural = "专家评分"
        constraints = [models.UniqueConstraint(fields=["assignment", "indicator"], name="score_unique")]

    def __str__(self) -> str:
        return f"{self.indicator.code}: {self.score}"


class CalendarDay(models.Model):
    """A day whose working status differs from Monday–Friday: a public holiday on a weekday, or
    an adjusted working day (调休) on a weekend. Maintained each year from the State Council's
    notice; public-notice periods are counted in working days with it."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "法定节假日"
        WORKDAY = "workday", "调休上班"

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    name = models.CharField("名称", max_length=40)

    class Meta:
        ordering = ["date"]
        verbose_name = verbose_name_plural = "节假日安排"

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class PublicNotice(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "公示中"
        CLOSED = "closed", "公示结束"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    batch = models.OneToOneField(Batch, on_delete=models.PROTECT, related_name="notice")
    title = models.CharField("标题", max_length=150)
    body = models.TextField("公示说明")
    starts_on = models.DateField("公示开始")
    ends_on = models.DateField("公示截止")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("发布时间", auto_now_add=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = verbose_name_plural = "公示"

    def __str__(self) -> str:
        return self.title


class Objection(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "待调查"
        UPHELD = "upheld", "异议成立"
        DISMISSED = "dismissed", "异议不成立"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField("异议编号", max_length=16, unique=True)
    notice = models.ForeignKey(PublicNotice, on_delete=models.PROTECT, related_name="objections")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="objections")
    # Contact details are private: only the office sees them (never the portal or the applicant).
    name = models.CharField("异议人", max_length=50)
    phone = models.CharField("联系电话", max_length=20)
    email = models.EmailField("电子邮箱", blank=True)
    content = models.TextField("异议内容")
    evidence = models.FileField("证明材料", upload_to="objections/%Y/", blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField("调查结论", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    created_at = models.DateTimeField("提出时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "异议"
        indexes = [models.Index(fields=["notice", "status"])]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        # The office's page (contact details are private); the public reads /notices/….
        return reverse("evaluation:objection-detail", args=[self.uuid])
