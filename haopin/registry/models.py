"""The registry: enterprises (market entities), their brands and products, and documents."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.urls import reverse

from haopin.registry.validation import (
    validate_gtin,
    validate_industry_code,
    validate_phone,
    validate_standard_codes,
    validate_trademarks,
    validate_uscc,
)

COUNTY = {"level": "county"}


class Enterprise(models.Model):
    """A market entity identified by its unified social credit code (GB 32100).

    Besides companies this holds the collective owners of regional and GI brands (associations,
    county governments), which have credit codes too. ``organisation`` links the record to the
    platform account that manages it, when there is one; imported records may have none yet.
    """

    class Size(models.TextChoices):
        LARGE = "large", "大型"
        MEDIUM = "medium", "中型"
        SMALL = "small", "小型"
        MICRO = "micro", "微型"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uscc = models.CharField(
        "统一社会信用代码",
        max_length=18,
        unique=True,
        validators=[validate_uscc],
        error_messages={"unique": "该统一社会信用代码已登记。"},
    )
    name = models.CharField("企业名称", max_length=100)
    region = models.ForeignKey(
        "core.Region",
        on_delete=models.PROTECT,
        related_name="enterprises",
        verbose_name="所在区划",
        limit_choices_to=COUNTY,
        error_messages={"invalid": "请选择山东省内的县（市、区）。"},
    )
    legal_representative = models.CharField("法定代表人", max_length=50, blank=True)
    address = models.CharField("住所", max_length=200, blank=True)
    founded_on = models.DateField("成立日期", null=True, blank=True)
    industry_code = models.CharField(
        "行业代码",
        max_length=5,
        blank=True,
        help_text="GB/T 4754-2017，如 C1511",
        validators=[validate_industry_code],
    )
    size = models.CharField("企业规模", max_length=8, choices=Size.choices, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True, validators=[validate_phone])
    contact_email = models.EmailField("电子邮箱", blank=True)
    organisation = models.OneToOneField(
        "accounts.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enterprise",
        verbose_name="平台账户单位",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = verbose_name_plural = "企业"
        # Lists open newest-changed first and are filtered by region; names are sorted on demand.
        indexes = [
            models.Index(fields=["region", "updated_at"]),
            models.Index(fields=["updated_at"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:enterprise-detail", args=[self.uuid])


class Brand(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "正常"
        SUSPENDED = "suspended", "暂停"
        REVOKED = "revoked", "撤销"
        EXITED = "exited", "已退出"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField("品牌名称", max_length=100)
    name_en = models.CharField("英文名称", max_length=150, blank=True)
    owner = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="brands", verbose_name="品牌主体"
    )
    brand_type = models.ForeignKey(
        "core.BrandType", on_delete=models.PROTECT, related_name="+", verbose_name="品牌类型"
    )
    category = models.ForeignKey(
        "core.Category", on_delete=models.PROTECT, related_name="brands", verbose_name="所属类别"
    )
    region = models.ForeignKey(
        "core.Region",
        on_delete=models.PROTECT,
        related_name="brands",
        verbose_name="所属区划",
        help_text="区域品牌、地理标志品牌为其覆盖的区划；其他品牌为品牌主体所在区划。",
    )
    tier = models.ForeignKey("core.Tier", on_delete=models.PROTECT, related_name="+", verbose_name="品牌层级")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    trademark_numbers = models.JSONField(
        "注册商标号", default=list, blank=True, validators=[validate_trademarks]
    )
    description = models.TextField("品牌简介", blank=True)
    description_en = models.TextField("英文简介", blank=True)
    logo = models.ForeignKey(
        "registry.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="品牌标识",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = verbose_name_plural = "品牌"
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"],
                name="brand_unique_name_per_owner",
                violation_error_message="该企业已登记同名品牌。",
            )
        ]
        # The brand list opens newest-changed first; each filter column leads an index that
        # ends with updated_at, so a filtered first page is an index walk that stops after one
        # page (measured with 100,000 brands: 165 ms → 0.1 ms for a type filter).
        indexes = [
            models.Index(fields=["region", "updated_at"]),
            models.Index(fields=["category", "updated_at"]),
            models.Index(fields=["tier", "updated_at"]),
            models.Index(fields=["brand_type", "updated_at"]),
            models.Index(fields=["status", "updated_at"]),
            # Sorting by status: an index on (status) alone is (status, rowid) on SQLite, the
            # list's sort with its id tie-break.
            models.Index(fields=["status"]),
            models.Index(fields=["updated_at"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:brand-detail", args=[self.uuid])


class BrandSource(models.Model):
    """Evidence that a brand comes from an existing programme (certificate number, year, file)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="sources")
    programme = models.ForeignKey(
        "core.SourceProgramme",
        on_delete=models.PROTECT,
        related_name="brand_sources",
        verbose_name="来源项目",
    )
    certificate_number = models.CharField("证书/文号", max_length=60, blank=True)
    year = models.PositiveSmallIntegerField("认定年份", null=True, blank=True)
    document = models.ForeignKey(
        "registry.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="证明文件",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        ordering = ["brand", "programme"]
        verbose_name = verbose_name_plural = "品牌来源"
        constraints = [models.UniqueConstraint(fields=["brand", "programme"], name="brandsource_unique")]
        indexes = [models.Index(fields=["programme", "brand"])]

    def __str__(self) -> str:
        return f"{self.brand} · {self.programme}"


class Product(models.Model):
    class Kind(models.TextChoices):
        GOODS = "goods", "产品"
        SERVICE = "service", "服务"
        ENGINEERING = "engineering", "工程"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="products")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices, default=Kind.GOODS)
    name = models.CharField("名称", max_length=100)
    specification = models.CharField("规格型号", max_length=200, blank=True)
    standard_codes = models.JSONField(
        "执行标准",
        default=list,
        blank=True,
        help_text="如 GB/T 19001、T/SDAQI 001",
        validators=[validate_standard_codes],
    )
    gtin = models.CharField(
        "商品条码（GTIN）",
        max_length=14,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_gtin],
        error_messages={"unique": "该商品条码已被其他产品使用。"},
    )
    description = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["brand", "name", "pk"]
        verbose_name = verbose_name_plural = "产品/服务"
        indexes = [models.Index(fields=["name"])]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "name", "specification"],
                name="product_unique_per_brand",
                violation_error_message="该品牌下已有同名同规格的产品。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.specification}".strip()

    def get_absolute_url(self) -> str:
        return reverse("registry:product-detail", args=[self.uuid])


class Document(models.Model):
    """An uploaded file. Stored under MEDIA_ROOT (outside the static root) and served only
    through ``registry:document-download``, which asks the registry policy first."""

    class Purpose(models.TextChoices):
        EVIDENCE = "evidence", "证明材料"
        LOGO = "logo", "品牌标识"
        LICENCE = "licence", "营业执照"
        IMPORT = "import", "导入文件"
        OTHER = "other", "其他"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    brand = models.ForeignKey(
        Brand, on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    uploaded_by_organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    purpose = models.CharField("用途", max_length=10, choices=Purpose.choices)
    title = models.CharField("标题", max_length=120, blank=True)
    file = models.FileField("文件", upload_to="documents/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("文件类型", max_length=100)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = verbose_name_plural = "文件"
        constraints = [
            models.CheckConstraint(
                condition=Q(enterprise__isnull=False) | Q(purpose="import"),
                name="document_has_owner_unless_import",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.original_name


class ImportJob(models.Model):
    """A bulk import of an existing-brand list: validated (dry run), then committed."""

    class Status(models.TextChoices):
        VALID = "valid", "校验通过"
        INVALID = "invalid", "校验未通过"
        COMMITTED = "committed", "已导入"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=Status.choices)
    row_count = models.PositiveIntegerField("数据行数", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    summary = models.JSONField("结果摘要", default=dict, blank=True)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    committed_at = models.DateTimeField("导入时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = verbose_name_plural = "批量导入"

    def __str__(self) -> str:
        return f"{self.document.original_name}（{self.get_status_display()}）"

    def get_absolute_url(self) -> str:
        return reverse("registry:import-detail", args=[self.uuid])
