"""The workspace page of a user's notifications: unread first, mark one or all as read."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from haopin.core.policies import get_visible
from haopin.notifications import selectors
from haopin.notifications.models import Notification
from haopin.notifications.services import notification_mark_read

PAGE_SIZE = 20


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for_user(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": selectors.unread_count(request.user)},
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    note = cast(Notification, get_visible(selectors.notifications_for_user(request.user), pk=pk))
    notification_mark_read(user=request.user, notification=note)
    if getattr(request, "htmx", False):
        note.refresh_from_db()
        return render(
            request,
            "notifications/marked.html",
            {"note": note, "unread": selectors.unread_count(request.user)},
        )
    return redirect(_back(request))


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notification_mark_read(user=request.user)
    return redirect(_back(request))


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way (only links within the site)."""
    note = cast(Notification, get_visible(selectors.notifications_for_user(request.user), pk=pk))
    notification_mark_read(user=request.user, notification=note)
    if note.url and url_has_allowed_host_and_scheme(note.url, allowed_hosts={request.get_host()}):
        return redirect(note.url)
    return redirect("notifications:list")


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    from django.urls import reverse

    return reverse("notifications:list")
