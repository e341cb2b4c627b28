"""The life of a certificate, as a transition table (DESIGN.md, convention 3).

    valid ─suspend→ suspended ─restore→ valid
    valid | suspended ─revoke→ revoked        (a sanction: misuse of the logo, failed checks, …)
    valid | suspended ─withdraw→ withdrawn    (注销: the holder's request, the entity dissolved, …)
    valid | suspended ─expire→ expired        (by itself, ``manage.py tick``, past ``valid_until``)

Revoked, withdrawn and expired are final: a brand that wants back in applies in a new batch.
Every manual move is the office's, with a reason; expiry is the system's alone (no person may
take it, so no button ever offers it).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from haopin.certificates.models import Certificate
from haopin.core.workflow import Transition
from haopin.evaluation import policies as evaluation_policies

C = Certificate.Status


def office(user: Any, certificate: Any = None) -> bool:
    return evaluation_policies.is_office(user)


def system(user: Any, certificate: Any = None) -> bool:
    return user is None


def _lapsed(certificate: Certificate) -> bool:
    return certificate.valid_until < timezone.localdate()


def _still_within_validity(certificate: Certificate) -> str | None:
    if _lapsed(certificate):
        return "证书已过有效期，不能恢复；到期后将自动转为“过期”。"
    return None


def _past_validity(certificate: Certificate) -> str | None:
    return None if _lapsed(certificate) else "证书尚在有效期内。"


CERTIFICATE_TRANSITIONS: dict[str, Transition] = {
    "suspend": Transition({C.VALID}, C.SUSPENDED, "暂停证书", office, needs=("reason",), style="secondary"),
    "restore": Transition(
        {C.SUSPENDED}, C.VALID, "恢复证书", office, needs=("reason",), guard=_still_within_validity
    ),
    "revoke": Transition(
        {C.VALID, C.SUSPENDED}, C.REVOKED, "撤销证书", office, needs=("reason",), style="danger"
    ),
    "withdraw": Transition(
        {C.VALID, C.SUSPENDED}, C.WITHDRAWN, "注销证书", office, needs=("reason",), style="danger"
    ),
    "expire": Transition({C.VALID, C.SUSPENDED}, C.EXPIRED, "证书到期", system, guard=_past_validity),
}

# The audit event each move writes.
AUDIT_ACTION = {
    "suspend": "certificates.certificate.suspended",
    "restore": "certificates.certificate.restored",
    "revoke": "certificates.certificate.revoked",
    "withdraw": "certificates.certificate.withdrawn",
    "expire": "certificates.certificate.expired",
}
MANUAL_ACTIONS = ("suspend", "restore", "revoke", "withdraw")
