"""Reads of accounts data, scoped by ``accounts.policies``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from haopin.accounts.models import ApiToken


def tokens_for_user(user: Any) -> QuerySet[ApiToken]:
    """A user's own tokens (no one else's, not even an admin's view: tokens are personal)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")
