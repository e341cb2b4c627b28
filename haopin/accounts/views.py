"""Account pages: API tokens (login and logout are Django's own views)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from haopin.accounts import selectors, services
from haopin.core.errors import ValidationFailed


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    created = None
    error = None
    if request.method == "POST":
        try:
            days = int(request.POST.get("days") or 365)
        except ValueError:
            days = -1
        try:
            _, created = services.token_create(
                actor=request.user, name=request.POST.get("name", ""), days=days
            )
        except ValidationFailed as exc:
            error = exc
    return render(
        request,
        "accounts/tokens.html",
        {
            "tokens": selectors.tokens_for_user(request.user),
            "created": created,
            "error": error,
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(selectors.tokens_for_user(request.user), pk=pk)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, f"令牌“{token.name}”已吊销。")
    return redirect("accounts:tokens")
