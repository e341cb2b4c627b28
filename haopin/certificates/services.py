"""Writes of the certificates domain: issuing certificates and changing their status."""

from __future__ import annotations

AUDIT_ACTIONS = {
    "certificates.certificate.issued": "颁发证书",
    "certificates.certificate.suspended": "暂停证书",
    "certificates.certificate.restored": "恢复证书",
    "certificates.certificate.revoked": "撤销证书",
    "certificates.certificate.withdrawn": "注销证书",
    "certificates.certificate.expired": "证书到期",
    "certificates.certificate.reminded": "证书到期提醒",
}
