"""Users, organisations, memberships with roles, expert profiles and API tokens."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.urls import reverse


class User(AbstractUser):
    """A person. What they may do follows from their membership (or expert profile)."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机号码", max_length=20, blank=True)

    class Meta:
        ordering = ["username"]
        verbose_name = verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def organisation(self) -> Organisation | None:
        membership = getattr(self, "membership", None)
        return membership.organisation if membership else None


class Organisation(models.Model):
    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", "企业"
        BRAND_OWNER = "brand_owner", "区域/地理标志品牌主体"
        OFFICE = "office", "省质量强省办"
        DEPARTMENT = "department", "省直部门"
        CITY_BUREAU = "city_bureau", "市市场监管局"
        COUNTY_BUREAU = "county_bureau", "县级市场监管局"
        EVALUATION_BODY = "evaluation_body", "评价机构"
        LAB = "lab", "检验检测机构"

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        ACTIVE = "active", "已启用"
        REJECTED = "rejected", "未通过"
        SUSPENDED = "suspended", "已停用"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField("单位名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    kind = models.CharField("单位类型", max_length=20, choices=Kind.choices)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.ACTIVE)
    region = models.ForeignKey(
        "core.Region", on_delete=models.PROTECT, null=True, blank=True, verbose_name="所在区划"
    )
    uscc = models.CharField("统一社会信用代码", max_length=18, null=True, blank=True, unique=True)
    managed_categories = models.ManyToManyField(
        "core.Category", blank=True, related_name="managing_organisations", verbose_name="主管类别"
    )
    managed_programmes = models.ManyToManyField(
        "core.SourceProgramme",
        blank=True,
        related_name="managing_organisations",
        verbose_name="主管品牌来源",
    )
    review_note = models.CharField("审核意见", max_length=500, blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = verbose_name_plural = "单位"
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:organisation-detail", args=[self.uuid])

    @property
    def is_bureau(self) -> bool:
        return self.kind in {self.Kind.CITY_BUREAU, self.Kind.COUNTY_BUREAU}


class Membership(models.Model):
    """A user's place in one organisation. One membership per user keeps scope unambiguous."""

    class Role(models.TextChoices):
        MANAGER = "manager", "管理员"
        STAFF = "staff", "经办人"
        READONLY = "readonly", "只读"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships", verbose_name="单位"
    )
    role = models.CharField("角色", max_length=10, choices=Role.choices, default=Role.STAFF)
    active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        ordering = ["organisation", "user"]
        verbose_name = verbose_name_plural = "单位成员"

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation}（{self.get_role_display()}）"


class ExpertProfile(models.Model):
    """A member of the expert pool (专家库)."""

    class Title(models.TextChoices):
        SENIOR = "senior", "正高级"
        ASSOCIATE = "associate", "副高级"
        INTERMEDIATE = "intermediate", "中级"
        OTHER = "other", "其他"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="expert_profile")
    employer = models.CharField("工作单位", max_length=100)
    employer_uscc = models.CharField(
        "工作单位统一社会信用代码",
        max_length=18,
        blank=True,
        help_text="用于回避：专家不评审本单位的申报。",
    )
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, verbose_name="所在区划")
    title = models.CharField("职称", max_length=12, choices=Title.choices, default=Title.SENIOR)
    specialities = models.ManyToManyField("core.Category", related_name="experts", verbose_name="专业领域")
    active = models.BooleanField("在库", default=True)
    note = models.CharField("备注", max_length=300, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = verbose_name_plural = "专家"

    def __str__(self) -> str:
        return str(self.user)

    def get_absolute_url(self) -> str:
        return reverse("accounts:expert-detail", args=[self.pk])


class ApiToken(models.Model):
    """A bearer token for machine clients. Only a SHA-256 digest of the secret is stored.

    The token is ``hp_<prefix>_<secret>``; the prefix finds the row, the digest of the whole token
    is compared in constant time. Tokens are 256-bit random, so a fast hash is sufficient.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("名称", max_length=60)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("到期时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "API 令牌"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=Q(revoked_at__isnull=True),
                name="apitoken_one_active_name_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (hp_{self.prefix}_…)"
