"""The office's certificate to-dos (registered by ``CertificatesConfig.ready`` with
``workspace.register_todo(todo)``)."""

from __future__ import annotations

from typing import Any

from haopin.certificates import selectors
from haopin.certificates.workflow import office
from haopin.core.workspace import TodoItem
from haopin.notifications import links

EXPIRING_DAYS = 30


def todo(user: Any) -> list[TodoItem]:
    if not office(user):
        return []
    count = selectors.certificates_expiring(user, within_days=EXPIRING_DAYS).count()
    url = links.url_for(
        "certificates:certificate-list", query="expiring=30", fallback=links.notifications_page()
    )
    return [TodoItem("张证书将在30天内到期", count, url, hint="到期后系统自动转为“过期”，并已提醒持证单位。")]
