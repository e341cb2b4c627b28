"""Reads of certificates: the user's own list (scoped by the policy) and the public lookup."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from uuid import UUID

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from haopin.certificates import policies
from haopin.certificates.models import Certificate, CertificateEvent
from haopin.core import numbering
from haopin.core.errors import NotFoundError
from haopin.core.policies import get_visible

LIST_RELATED = ("brand", "enterprise__region", "batch")


def certificates_for_user(user: Any) -> QuerySet[Certificate]:
    return policies.certificates_for_user(user).select_related(*LIST_RELATED)


def certificate_get_for_user(user: Any, uuid: UUID | str) -> Certificate:
    """The certificate if ``user`` may see it; NotFoundError (→ 404) otherwise."""
    return cast(
        Certificate, get_visible(certificates_for_user(user).select_related("brand__brand_type"), uuid=uuid)
    )


def certificate_events(certificate: Certificate) -> QuerySet[CertificateEvent]:
    return certificate.events.order_by("created_at", "pk")


def certificate_public_get(number: str) -> Certificate:
    """The public record of a certificate by its number, for anyone.

    A number whose check character does not match raises ValidationFailed with a clear message
    (a typo, not an unknown certificate); a well-formed number that was never issued raises
    NotFoundError. The caller shows only the public fields (number, holder, brand, scope,
    validity, status, history).
    """
    compact = numbering.normalise(number, label="证书编号")
    certificate = (
        Certificate.objects.select_related("brand__brand_type", "enterprise", "batch")
        .prefetch_related(
            "products",
            Prefetch("events", queryset=CertificateEvent.objects.order_by("created_at", "pk")),
        )
        .filter(number=compact)
        .first()
    )
    if certificate is None:
        raise NotFoundError(f"未查询到编号为“{compact}”的证书，请核对编号。")
    return certificate


def certificates_expiring(
    user: Any, *, within_days: int = 30, today: dt.date | None = None
) -> QuerySet[Certificate]:
    """Valid certificates visible to ``user`` whose last day falls within ``within_days``."""
    today = today or timezone.localdate()
    return certificates_for_user(user).filter(
        status=Certificate.Status.VALID,
        valid_until__gte=today,
        valid_until__lte=today + dt.timedelta(days=within_days),
    )
