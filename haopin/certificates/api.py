"""API: certificates — the public verification by number, the published lists of admitted
brands, and (signed in) the certificates in the caller's scope and the office's status changes.

``GET /certificates/{number}`` and ``/published-lists`` are open to anonymous clients: the
public record is what the verification page shows (number, holder, brand, scope, validity,
status and its history). A number whose check character does not match is a 422 saying so; a
well-formed number that was never issued is a 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from ninja import Query, Router

from haopin.certificates import policies, selectors, services
from haopin.certificates.models import Certificate
from haopin.certificates.schemas import (
    CertificateFilters,
    CertificateMoveIn,
    CertificatePage,
    CertificatePublicOut,
    PublishedListOut,
    PublishedPage,
)
from haopin.core.errors import NotFoundError
from haopin.evaluation import policies as evaluation_policies
from haopin.evaluation.api import batch_ref
from haopin.evaluation.models import Batch
from haopin.registry.schemas import PageQuery
from haopin.standards.api import action_out, code_name, page
from haopin.standards.schemas import ActionName, ActionOut, PublicNumber

router = Router(tags=["certificates"])

LABELS = dict(Certificate.Status.choices)
PUBLISHED = (Batch.Status.PUBLISHED, Batch.Status.CLOSED)


def public_out(request: HttpRequest, c: Certificate) -> dict[str, Any]:
    return {
        "number": c.number,
        "status": c.status,
        "status_label": c.get_status_display(),
        "status_reason": c.status_reason,
        "holder": {"name": c.enterprise.name, "uscc": c.enterprise.uscc},
        "brand": {"name": c.brand.name, "brand_type": code_name(c.brand.brand_type)},
        "scope": c.scope,
        "products": [str(p) for p in c.products.all()],
        "logo_licence": c.logo_licence,
        "issued_on": c.issued_on,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
        "batch": c.batch.title,
        "history": [
            {
                "at": e.created_at,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "to_label": LABELS.get(e.to_status, e.to_status),
                "reason": e.reason,
            }
            for e in c.events.all()
        ],
        "verify_url": request.build_absolute_uri(c.get_public_url()),
    }


def certificate_out(c: Certificate) -> dict[str, Any]:
    return {
        "uuid": c.uuid,
        "number": c.number,
        "status": c.status,
        "status_label": c.get_status_display(),
        "status_reason": c.status_reason,
        "brand": {"uuid": c.brand.uuid, "name": c.brand.name},
        "enterprise": {"uuid": c.enterprise.uuid, "name": c.enterprise.name, "uscc": c.enterprise.uscc},
        "batch": batch_ref(c.batch),
        "issued_on": c.issued_on,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
    }


def get_certificate(request: HttpRequest, number: PublicNumber) -> Certificate:
    """The certificate by number if the caller's scope holds it (the public record aside)."""
    certificate = selectors.certificate_public_get(number)
    if not policies.can_view(request.user, certificate):
        raise NotFoundError()
    return certificate


@router.get(
    "/certificates/{number}",
    auth=None,
    response=CertificatePublicOut,
    summary="核验证书（公开）：状态、持证主体、品牌、范围、有效期、状态记录",
    description="编号校验位不符返回 422（请核对编号），编号正确但未颁发返回 404。",
)
def verify_certificate(request: HttpRequest, number: PublicNumber):
    return public_out(request, selectors.certificate_public_get(number))


@router.get("/certificates", response=CertificatePage, summary="证书列表（按权限范围）")
def list_certificates(request: HttpRequest, filters: Query[CertificateFilters]):
    qs = selectors.certificates_for_user(request.user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.batch:
        qs = qs.filter(batch__uuid=filters.batch)
    if filters.brand:
        qs = qs.filter(brand__uuid=filters.brand)
    if filters.q and filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(
            Q(number__icontains=term.upper())
            | Q(brand__name__icontains=term)
            | Q(enterprise__name__icontains=term)
        )
    return page(qs, filters, certificate_out)


@router.get(
    "/certificates/{number}/actions", response=list[ActionOut], summary="您现在可以对该证书执行的操作"
)
def certificate_actions(request: HttpRequest, number: PublicNumber):
    certificate = get_certificate(request, number)
    return [action_out(name, move) for name, move in policies.available_actions(request.user, certificate)]


@router.post(
    "/certificates/{number}/actions/{action}",
    response=CertificatePublicOut,
    summary="证书状态变更（省质量强省办）：suspend、restore、revoke、withdraw，须说明原因",
    description="原因公开显示在证书的状态记录中。不允许的变更返回 409，无权执行返回 403。",
)
def certificate_action(
    request: HttpRequest, number: PublicNumber, action: ActionName, payload: CertificateMoveIn
):
    certificate = get_certificate(request, number)
    services.certificate_move(
        actor=request.user,
        certificate=certificate,
        action=action,
        reason=payload.reason,
        expected_status=payload.expected_status,
    )
    return public_out(request, selectors.certificate_public_get(certificate.number))


# --- the published lists -----------------------------------------------------------------------------


def _published_batches():
    # The public's view of batches (``None``: no one signed in), narrowed to those with results.
    return evaluation_policies.batches_for_user(None).filter(status__in=PUBLISHED)


@router.get("/published-lists", auth=None, response=PublishedPage, summary="已发布的入选名单（公开）")
def list_published(request: HttpRequest, filters: Query[PageQuery]):
    qs = _published_batches().annotate(brand_count=Count("certificates")).order_by("-year", "-sequence")
    return page(
        qs,
        filters,
        lambda b: {"batch": batch_ref(b), "published_at": b.published_at, "brands": b.brand_count},
    )


@router.get(
    "/published-lists/{uuid}",
    auth=None,
    response=PublishedListOut,
    summary="一个批次的入选品牌及证书编号（公开）",
)
def get_published(request: HttpRequest, uuid: uuid.UUID):
    batch = _published_batches().filter(uuid=uuid).first()
    if batch is None:
        raise NotFoundError("该批次尚未发布结果。")
    certificates = (
        Certificate.objects.filter(batch=batch)
        .select_related("brand__brand_type", "brand__category", "brand__region", "enterprise")
        .order_by("number")
    )
    return {
        "batch": batch_ref(batch),
        "published_at": batch.published_at,
        "brands": [
            {
                "certificate": c.number,
                "certificate_status": c.status,
                "brand": c.brand.name,
                "brand_type": code_name(c.brand.brand_type),
                "enterprise": c.enterprise.name,
                "uscc": c.enterprise.uscc,
                "category": code_name(c.brand.category),
                "region": code_name(c.brand.region),
            }
            for c in certificates
        ],
    }
