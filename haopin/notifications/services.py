"""Notifications: telling people that something awaits them or changed for them.

``notify`` stores one notification per user (shown in the workspace) and, after the surrounding
transaction commits, e-mails those with an address through Django's e-mail backend (a
background task, so a slow mail server never holds a request). ``email_person`` writes to
someone without an account (an objector who left an address). Creating and reading
notifications are not audited: each is a copy, addressed to a person, of an event that the
domain which caused it has already audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from haopin.notifications.models import Notification

AUDIT_ACTIONS: dict[str, str] = {}


def notify(
    *, users: Iterable[Any], kind: str, title: str, body: str = "", url: str = ""
) -> list[Notification]:
    recipients = {u.pk: u for u in users if u is not None and getattr(u, "is_active", False)}
    notes = Notification.objects.bulk_create(
        [Notification(user_id=pk, kind=kind, title=title[:150], body=body, url=url) for pk in recipients]
    )
    ids = [n.pk for n in notes if recipients[n.user_id].email]
    if ids:
        from haopin.notifications.tasks import send_notification_emails

        transaction.on_commit(lambda: send_notification_emails.enqueue(ids))
    return notes


def email_person(*, to: str, subject: str, body: str) -> bool:
    """E-mail someone who has no account, after the surrounding transaction commits.

    Returns False (and sends nothing) for an empty or malformed address: the caller's event is
    recorded either way, and a bad address must not undo it.
    """
    address = (to or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        return False
    from haopin.notifications.tasks import send_plain_email

    transaction.on_commit(lambda: send_plain_email.enqueue(address, subject, body))
    return True


def notification_mark_read(*, user: Any, notification: Notification | None = None) -> int:
    """Mark one (or, without ``notification``, all) of ``user``'s notifications as read."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification is not None:
        qs = qs.filter(pk=notification.pk)
    return qs.update(read_at=timezone.now())
