"""Reference data shared by every domain, and the audit trail.

Reference tables are seeded by migrations from the CSV files in ``core/data`` (each file names
its origin) and are editable by platform admins in the admin site.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Region(models.Model):
    """A GB/T 2260 administrative division of Shandong: the province, a city or a county."""

    class Level(models.TextChoices):
        PROVINCE = "province", "省"
        CITY = "city", "市"
        COUNTY = "county", "县（市、区）"

    code = models.CharField("区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=40)
    name_en = models.CharField("英文名称", max_length=80, blank=True)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="上级区划",
    )
    active = models.BooleanField("现行有效", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "行政区划"

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        """The code prefix shared by this division and everything below it (GB/T 2260)."""
        if self.level == self.Level.PROVINCE:
            return self.code[:2]
        if self.level == self.Level.CITY:
            return self.code[:4]
        return self.code

    @property
    def full_name(self) -> str:
        if self.level == self.Level.COUNTY and self.parent_id:
            assert self.parent is not None  # parent_id is set
            return f"{self.parent.name}{self.name}"
        return self.name


class Category(models.Model):
    """The category tree: industry (level 1) → category (level 2) → sub-category (level 3)."""

    code = models.CharField("代码", max_length=10, unique=True)
    name = models.CharField("名称", max_length=60)
    name_en = models.CharField("英文名称", max_length=120, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="上级类别",
    )
    level = models.PositiveSmallIntegerField("层级", default=1)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "行业类别"

    def __str__(self) -> str:
        return self.name


class BrandType(models.Model):
    """The "4+1" brand types: product, enterprise, industry, regional and GI brands."""

    code = models.SlugField("代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=40)
    name_en = models.CharField("英文名称", max_length=80, blank=True)
    position = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = verbose_name_plural = "品牌类型"

    def __str__(self) -> str:
        return self.name


class SourceProgramme(models.Model):
    """A programme whose existing brands enter the brand system (老字号, GI, 省长质量奖, …)."""

    code = models.SlugField("代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=60)
    name_en = models.CharField("英文名称", max_length=120, blank=True)
    issuer = models.CharField("认定机关", max_length=60, blank=True)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "存量品牌来源"

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    """A tier of the "flying geese" formation: cultivation pool, member, benchmark."""

    code = models.SlugField("代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=40)
    name_en = models.CharField("英文名称", max_length=80, blank=True)
    rank = models.PositiveSmallIntegerField("等级", default=1)

    class Meta:
        ordering = ["rank"]
        verbose_name = verbose_name_plural = "品牌层级"

    def __str__(self) -> str:
        return self.name


class IndustryCode(models.Model):
    """A GB/T 4754-2017 section (letter) or division (two digits)."""

    code = models.CharField("代码", max_length=2, unique=True)
    name = models.CharField("名称", max_length=60)
    section = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="divisions",
        verbose_name="门类",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "国民经济行业分类"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AuditEvent(models.Model):
    """One link of the audit chain. Rows are only ever inserted, by ``core.audit``.

    Actor and organisation are plain ids without foreign-key constraints: deleting a user must
    never rewrite (and so break) history; the label fields keep the names as they were.
    """

    seq = models.BigIntegerField("序号", unique=True)
    created_at = models.DateTimeField("时间")
    action = models.CharField("操作", max_length=60, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    actor_label = models.CharField("操作人名称", max_length=150, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="所属单位",
    )
    target_type = models.CharField("对象类型", max_length=60)
    target_id = models.CharField("对象标识", max_length=64)
    target_label = models.CharField("对象名称", max_length=200, blank=True)
    old = models.JSONField("原值", null=True, blank=True)
    new = models.JSONField("新值", null=True, blank=True)
    request_id = models.CharField("请求编号", max_length=64, blank=True)
    client_ip = models.CharField("客户端地址", max_length=45, blank=True)
    prev_hash = models.CharField("前一事件哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64)

    class Meta:
        ordering = ["-seq"]
        verbose_name = verbose_name_plural = "审计日志"
        indexes = [
            models.Index(fields=["target_type", "target_id", "seq"]),
            models.Index(fields=["created_at"]),  # the audit log's date-range filter
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class AuditHead(models.Model):
    """The single row that names the end of the chain.

    Appenders lock it (``select_for_update``), which serialises them on PostgreSQL; its last
    hash also reveals deleted events at the end of the chain.
    """

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["pk"]
        verbose_name = verbose_name_plural = "审计链头"

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class NumberSequence(models.Model):
    """The last serial issued per (prefix, year), for numbers with check characters."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["prefix", "year"]
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="numbersequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.year}: {self.last}"
