"""Reads of notifications, and who to tell about an organisation's affairs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from haopin.accounts.models import Membership, Organisation, User
from haopin.notifications.models import Notification


def notifications_for_user(user: Any) -> QuerySet[Notification]:
    """The user's own notifications (never anyone else's), unread first, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return (
        Notification.objects.filter(user=user)
        .annotate(unread=unread)
        .order_by("-unread", "-created_at", "-pk")
    )


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def members_of(organisation_ids: Iterable[int | None]) -> QuerySet[User]:
    """Active users with an active membership in any of these organisations (every role: a
    read-only member still wants to know what happens to their organisation)."""
    ids = {pk for pk in organisation_ids if pk is not None}
    if not ids:
        return User.objects.none()
    return User.objects.filter(
        is_active=True,
        membership__active=True,
        membership__organisation_id__in=ids,
        membership__organisation__status=Organisation.Status.ACTIVE,
    )


def office_staff(*, writers_only: bool = True) -> QuerySet[User]:
    """Members of the provincial office, by default those who may act (to-dos, new objections)."""
    qs = User.objects.filter(
        is_active=True,
        membership__active=True,
        membership__organisation__kind=Organisation.Kind.OFFICE,
        membership__organisation__status=Organisation.Status.ACTIVE,
    )
    if writers_only:
        qs = qs.filter(membership__role__in=[Membership.Role.MANAGER, Membership.Role.STAFF])
    return qs
