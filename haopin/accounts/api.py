"""API: authentication (token for username and password) and the caller's identity."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth import authenticate
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status
from ninja.errors import Throttled

from haopin.accounts import services
from haopin.accounts.schemas import MeOut, TokenIn, TokenOut
from haopin.core.errors import DomainError
from haopin.core.middleware import client_ip
from haopin.core.policies import scope_of

router = Router(tags=["accounts"])

# Brute-force protection for the password endpoint. Failures are counted per (username, client
# address) so that one attacker cannot lock a real user out from elsewhere, and per address
# alone so that one address cannot walk through many usernames. Ten tries per account in 15
# minutes is plenty for a person who mistypes and useless for guessing; a machine client that
# fails ten times in a row is misconfigured either way. The counters live in the cache
# (local memory on one machine, Redis across several app servers).
FAILURE_WINDOW = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 10
MAX_FAILURES_PER_ADDRESS = 50


def _failure_keys(request: HttpRequest, username: str) -> tuple[str, str]:
    address = client_ip(request) or "unknown"
    account = hashlib.sha256(f"{address}|{username.strip().lower()}".encode()).hexdigest()[:32]
    return f"api-auth-fail:acct:{account}", f"api-auth-fail:addr:{address}"


def _count_failure(key: str) -> None:
    # add() starts the window only if none is open; incr() keeps the expiry it was given.
    if not cache.add(key, 1, FAILURE_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, FAILURE_WINDOW)


@router.post(
    "/auth/token",
    auth=None,
    response={201: TokenOut},
    summary="用户名和密码换取 API 令牌",
    description=f"连续失败过多（同一用户名和地址 15 分钟内 {MAX_FAILURES_PER_ACCOUNT} 次）时返回 429。",
)
def auth_token(request: HttpRequest, payload: TokenIn):
    account_key, address_key = _failure_keys(request, payload.username)
    if (cache.get(account_key) or 0) >= MAX_FAILURES_PER_ACCOUNT or (
        cache.get(address_key) or 0
    ) >= MAX_FAILURES_PER_ADDRESS:
        raise Throttled(wait=FAILURE_WINDOW)
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        _count_failure(account_key)
        _count_failure(address_key)
        raise DomainError("用户名或密码不正确。", code="invalid_credentials")
    cache.delete(account_key)
    default_name = f"api-{timezone.localtime():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    token, raw = services.token_create(actor=user, name=payload.name or default_name, days=payload.days)
    return Status(201, {"token": raw, "name": token.name, "expires_at": token.expires_at})


@router.get("/me", response=MeOut, summary="当前用户、单位和角色")
def me(request: HttpRequest):
    user: Any = request.user
    scope = scope_of(user)
    membership = getattr(user, "membership", None)
    if membership is not None and not membership.active:
        membership = None
    org = membership.organisation if membership else None
    roles = []
    if user.is_superuser:
        roles.append("platform_admin")
    if membership:
        roles.append(membership.role)
    if hasattr(user, "expert_profile"):
        roles.append("expert")
    return {
        "username": user.username,
        "full_name": user.full_name,
        "organisation": None
        if org is None
        else {
            "uuid": org.uuid,
            "name": org.name,
            "kind": org.kind,
            "status": org.status,
            "region": org.region.code if org.region_id else None,
        },
        "roles": roles,
        "scope": scope.kind.value,
        "can_write": scope.can_write,
    }
