"""API: authentication (token for username and password) and the caller's identity."""

from __future__ import annotations

import secrets

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from haopin.accounts import services
from haopin.accounts.schemas import MeOut, TokenIn, TokenOut
from haopin.core.errors import DomainError
from haopin.core.policies import scope_of

router = Router(tags=["accounts"])


@router.post("/auth/token", auth=None, response={201: TokenOut}, summary="用户名和密码换取 API 令牌")
def auth_token(request: HttpRequest, payload: TokenIn):
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        raise DomainError("用户名或密码不正确。", code="invalid_credentials")
    default_name = f"api-{timezone.localtime():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    token, raw = services.token_create(actor=user, name=payload.name or default_name, days=payload.days)
    return 201, {"token": raw, "name": token.name, "expires_at": token.expires_at}


@router.get("/me", response=MeOut, summary="当前用户、单位和角色")
def me(request: HttpRequest):
    user = request.user
    scope = scope_of(user)
    membership = getattr(user, "membership", None)
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
