"""Writes of the certificates domain: issuing certificates and changing their status.

Certificate numbers are ``HP`` + the four-digit year of issue + a six-digit serial, dense per
year, + one ISO 7064 Mod 37,36 check character (``core.numbering``), e.g. ``HP2025000001`` +
``X`` = ``HP2025000001X``: thirteen characters, upper-case letters and digits only, so they can
be read out on the phone, typed from paper and carried in a small QR code; a mistyped or
swapped character is caught before any lookup.

A certificate is valid from the date the batch's results were published for
``batch.certificate_years`` years (the day before the anniversary is the last day). Status
changes follow ``workflow.CERTIFICATE_TRANSITIONS``; each one writes a ``CertificateEvent``
(the public history) and an audit event, and tells the holder's members.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from haopin.certificates.models import Certificate, CertificateEvent
from haopin.certificates.workflow import AUDIT_ACTION, CERTIFICATE_TRANSITIONS, MANUAL_ACTIONS, office
from haopin.core import audit, numbering, workflow
from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.formatting import cn_date
from haopin.core.models import Tier
from haopin.evaluation.models import Application, Batch
from haopin.notifications import links
from haopin.notifications import selectors as recipients
from haopin.notifications.services import notify

AUDIT_ACTIONS = {
    "certificates.certificate.issued": "颁发证书",
    "certificates.certificate.suspended": "暂停证书",
    "certificates.certificate.restored": "恢复证书",
    "certificates.certificate.revoked": "撤销证书",
    "certificates.certificate.withdrawn": "注销证书",
    "certificates.certificate.expired": "证书到期",
    "certificates.certificate.reminded": "证书到期提醒",
}

NUMBER_PREFIX = "HP"
ISSUING_BODY = "山东省质量强省工作领导小组办公室"
REASON_MAX = 300
# Reminders before expiry, in days (each sent once; see ``certificates_remind``).
REMINDER_DAYS = (90, 30)
STATUS_LABELS = dict(Certificate.Status.choices)


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (29 February → 1 March in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def validity(start: dt.date, years: int) -> tuple[dt.date, dt.date]:
    return start, add_years(start, years) - dt.timedelta(days=1)


def scope_text(application: Application, products: list[Any]) -> str:
    """What the certificate covers, in the words printed on it."""
    brand = application.brand
    lines = [f"品牌：{brand.name}（{brand.brand_type.name}）"]
    if products:
        kinds = {p.kind for p in products}
        label = "产品/服务" if len(kinds) > 1 else products[0].get_kind_display()
        lines.append(f"{label}：" + "；".join(str(p) for p in products))
    else:
        lines.append("范围：该品牌经评价的全部产品/服务")
    lines.append("授权使用“好品山东”标识")
    return "\n".join(lines)


def _holder_users(certificate: Certificate) -> Any:
    return recipients.members_of([certificate.enterprise.organisation_id])


def _public_url(certificate: Certificate) -> str:
    return links.url_for("certificates:verify", certificate.number)


# --- issuing --------------------------------------------------------------------------------------


@transaction.atomic
def certificates_issue_for_batch(*, actor: Any, batch: Batch) -> list[Certificate]:
    """Issue one certificate per published application of ``batch`` that has none yet.

    Idempotent: calling it again issues only what is missing (the batch row lock orders two
    concurrent calls; the one-to-one link to the application forbids a second certificate).
    Brands still in the cultivation pool become member brands (好品山东品牌) through the
    registry's own service, as the office.
    """
    from haopin.registry.services import brand_update

    if not office(actor):
        raise PermissionDeniedError("只有省质量强省办可以颁发证书。")
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in {Batch.Status.NOTICE, Batch.Status.PUBLISHED, Batch.Status.CLOSED}:
        raise ConflictError(
            f"批次当前状态为“{batch.get_status_display()}”，尚未发布结果，不能颁发证书。",
            code="batch_not_published",
        )
    pending = list(
        Application.objects.filter(batch=batch, status=Application.Status.PUBLISHED, certificate__isnull=True)
        .select_related("brand__brand_type", "brand__tier", "enterprise")
        .prefetch_related("products")
        .order_by("number")
    )
    if not pending:
        return []
    issued_on = timezone.localdate(batch.published_at) if batch.published_at else timezone.localdate()
    valid_from, valid_until = validity(issued_on, batch.certificate_years)
    member = Tier.objects.get(code="member")
    reason = f"{batch.title}结果发布，颁发证书"
    issued: list[Certificate] = []
    entries: list[audit.Entry] = []
    for application in pending:
        products = list(application.products.all())
        certificate = Certificate.objects.create(
            number=numbering.next_number(NUMBER_PREFIX, issued_on.year),
            application=application,
            batch=batch,
            brand=application.brand,
            enterprise=application.enterprise,
            scope=scope_text(application, products),
            logo_licence=True,
            issued_on=issued_on,
            valid_from=valid_from,
            valid_until=valid_until,
            status=Certificate.Status.VALID,
        )
        certificate.products.set(products)
        CertificateEvent.objects.create(
            certificate=certificate,
            from_status="",
            to_status=Certificate.Status.VALID,
            reason=reason,
            actor=actor,
        )
        entries.append(
            audit.entry_for(
                "certificates.certificate.issued",
                certificate,
                new={
                    "number": certificate.number,
                    "application": application.number,
                    "brand": application.brand_id,
                    "enterprise": application.enterprise_id,
                    "products": [p.pk for p in products],
                    "valid_from": valid_from,
                    "valid_until": valid_until,
                },
            )
        )
        issued.append(certificate)
    audit.record_many(entries, actor=actor)
    for certificate in issued:
        brand = certificate.brand
        if brand.tier.rank < member.rank:
            brand_update(actor=actor, brand=brand, tier=member)
        notify(
            users=_holder_users(certificate),
            kind="certificates.issued",
            title=f"“{brand.name}”获颁“好品山东”品牌证书（{certificate.number}）",
            body=f"证书有效期为{cn_date(valid_from)}至{cn_date(valid_until)}。"
            "证书公开信息可通过证书编号或证书上的二维码核验。",
            url=_public_url(certificate),
        )
    return issued


# --- status changes ---------------------------------------------------------------------------------


@transaction.atomic
def certificate_move(
    *, actor: Any, certificate: Certificate, action: str, reason: str, expected_status: str | None = None
) -> Certificate:
    """Suspend, restore, revoke or withdraw a certificate, with a reason (the office)."""
    if action not in MANUAL_ACTIONS:
        raise ValidationFailed(f"未知的操作“{action}”。", code="unknown_action")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            f"原因不能超过{REASON_MAX}个字。", details={"reason": f"不能超过{REASON_MAX}个字。"}
        )
    moved = workflow.apply(
        CERTIFICATE_TRANSITIONS,
        certificate,
        action,
        actor=actor,
        status_labels=STATUS_LABELS,
        expected_status=expected_status,
        reason=reason,
    )
    locked: Certificate = moved.obj
    locked.status_reason = reason
    locked.save(update_fields=["status_reason"])
    _record_change(locked, action, moved.source, moved.target, reason, actor)
    certificate.status = locked.status
    certificate.status_reason = reason
    return locked


def certificate_suspend(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    return certificate_move(actor=actor, certificate=certificate, action="suspend", reason=reason)


def certificate_restore(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    return certificate_move(actor=actor, certificate=certificate, action="restore", reason=reason)


def certificate_revoke(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    return certificate_move(actor=actor, certificate=certificate, action="revoke", reason=reason)


def certificate_withdraw(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    return certificate_move(actor=actor, certificate=certificate, action="withdraw", reason=reason)


def _record_change(
    certificate: Certificate, action: str, source: str, target: str, reason: str, actor: Any
) -> None:
    CertificateEvent.objects.create(
        certificate=certificate, from_status=source, to_status=target, reason=reason, actor=actor
    )
    audit.record(
        AUDIT_ACTION[action],
        target=certificate,
        actor=actor,
        old={"status": source},
        new={"status": target, "reason": reason},
    )
    certificate = Certificate.objects.select_related("brand", "enterprise").get(pk=certificate.pk)
    label = STATUS_LABELS[target]
    notify(
        users=_holder_users(certificate),
        kind=f"certificates.{target}",
        title=f"“{certificate.brand.name}”的证书（{certificate.number}）状态变更为“{label}”",
        body=f"原因：{reason}"
        + ("\n证书暂停或终止期间，不得使用“好品山东”标识。" if target != "valid" else ""),
        url=_public_url(certificate),
    )


# --- what happens by itself (``manage.py tick``) ------------------------------------------------------


def certificates_expire(*, today: dt.date | None = None) -> list[Certificate]:
    """Valid or suspended certificates past their last day become expired. Compare-and-set per
    certificate, so concurrent ticks never expire (or record) one twice."""
    today = today or timezone.localdate()
    move = CERTIFICATE_TRANSITIONS["expire"]
    expired = []
    due = Certificate.objects.filter(status__in=move.source, valid_until__lt=today).values_list(
        "pk", "status"
    )
    for pk, status in due:
        with transaction.atomic():
            reason = "有效期届满"
            changed = Certificate.objects.filter(pk=pk, status=status, valid_until__lt=today).update(
                status=move.target, status_reason=reason, updated_at=timezone.now()
            )
            if not changed:
                continue
            certificate = Certificate.objects.get(pk=pk)
            _record_change(certificate, "expire", status, move.target, reason, None)
            expired.append(certificate)
    return expired


def _reminder_due(certificate: Certificate, today: dt.date) -> int | None:
    """The reminder (90 or 30 days) due now, or None. ``reminded_at`` is the date of the last
    reminder: a reminder stage is done when it was sent on or after the stage's first day, so
    each is sent once, and a late first run sends only the nearer one."""
    days_left = (certificate.valid_until - today).days
    for stage in sorted(REMINDER_DAYS):
        if days_left <= stage:
            stage_opens = certificate.valid_until - dt.timedelta(days=stage)
            if certificate.reminded_at is None or certificate.reminded_at < stage_opens:
                return stage
            return None
    return None


def certificates_remind(*, today: dt.date | None = None) -> list[tuple[Certificate, int]]:
    """Remind holders 90 and 30 days before a valid certificate expires (once each)."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=max(REMINDER_DAYS))
    sent = []
    candidates = Certificate.objects.filter(
        status=Certificate.Status.VALID, valid_until__gte=today, valid_until__lte=horizon
    ).select_related("brand", "enterprise")
    for certificate in candidates:
        stage = _reminder_due(certificate, today)
        if stage is None:
            continue
        with transaction.atomic():
            changed = Certificate.objects.filter(
                pk=certificate.pk, status=Certificate.Status.VALID, reminded_at=certificate.reminded_at
            ).update(reminded_at=today)
            if not changed:
                continue
            days_left = (certificate.valid_until - today).days
            audit.record(
                "certificates.certificate.reminded",
                target=certificate,
                old={"reminded_at": certificate.reminded_at},
                new={"reminded_at": today, "stage": stage, "days_left": days_left},
            )
            notify(
                users=_holder_users(certificate),
                kind="certificates.expiring",
                title=f"“{certificate.brand.name}”的证书（{certificate.number}）将于{cn_date(certificate.valid_until)}到期",
                body=f"证书还有{days_left}天到期。到期后证书自动转为“过期”，不得继续使用“好品山东”标识。",
                url=_public_url(certificate),
            )
        certificate.reminded_at = today
        sent.append((certificate, stage))
    return sent
