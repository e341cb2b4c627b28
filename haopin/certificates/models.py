"""Certificates of admitted brands and the logo licence they carry, with their status history."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class Certificate(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", "有效"
        SUSPENDED = "suspended", "暂停"
        REVOKED = "revoked", "撤销"
        WITHDRAWN = "withdrawn", "注销"
        EXPIRED = "expired", "过期"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField("证书编号", max_length=16, unique=True)
    application = models.OneToOneField(
        "evaluation.Application", on_delete=models.PROTECT, related_name="certificate", verbose_name="申报"
    )
    batch = models.ForeignKey("evaluation.Batch", on_delete=models.PROTECT, related_name="certificates")
    brand = models.ForeignKey(
        "registry.Brand", on_delete=models.PROTECT, related_name="certificates", verbose_name="品牌"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="certificates", verbose_name="持证主体"
    )
    products = models.ManyToManyField(
        "registry.Product", blank=True, related_name="certificates", verbose_name="覆盖产品/服务"
    )
    scope = models.TextField("证书范围")
    logo_licence = models.BooleanField("授权使用“好品山东”标识", default=True)
    issued_on = models.DateField("发证日期")
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期至")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.VALID)
    status_reason = models.CharField("状态说明", max_length=300, blank=True)
    reminded_at = models.DateField("到期提醒日期", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["-issued_on", "number"]
        verbose_name = verbose_name_plural = "证书"
        indexes = [models.Index(fields=["status", "valid_until"]), models.Index(fields=["brand", "status"])]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("certificates:certificate-detail", args=[self.uuid])

    def get_public_url(self) -> str:
        return reverse("certificates:verify", args=[self.number])


class CertificateEvent(models.Model):
    """One change of a certificate's status, with its reason (the public history)."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField("原状态", max_length=10, blank=True)
    to_status = models.CharField("新状态", max_length=10)
    reason = models.CharField("原因", max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["certificate", "created_at", "pk"]
        verbose_name = verbose_name_plural = "证书状态变更"

    def __str__(self) -> str:
        return f"{self.certificate.number}: {self.from_status} → {self.to_status}"
