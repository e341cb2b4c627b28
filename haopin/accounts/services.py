"""Writes for users, organisations, memberships, experts and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from haopin.accounts import policies
from haopin.accounts.models import ApiToken, ExpertProfile, Membership, Organisation, User
from haopin.accounts.passwords import password_problems
from haopin.core import audit
from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.models import Category, Region
from haopin.core.writes import assign, full_clean_or_raise

AUDIT_ACTIONS = {
    "accounts.user.created": "创建用户",
    "accounts.user.updated": "修改用户",
    "accounts.organisation.created": "创建单位",
    "accounts.organisation.updated": "修改单位",
    "accounts.organisation.registered": "企业注册",
    "accounts.organisation.approved": "注册审核通过",
    "accounts.organisation.rejected": "注册审核未通过",
    "accounts.membership.created": "添加单位成员",
    "accounts.membership.updated": "修改成员角色",
    "accounts.expert.created": "专家入库",
    "accounts.expert.updated": "修改专家信息",
    "accounts.token.created": "创建 API 令牌",
    "accounts.token.revoked": "吊销 API 令牌",
}

ORGANISATION_FIELDS = ["name", "short_name", "kind", "status", "region", "uscc"]


def _clean_password(password: str, user: User | None = None) -> None:
    problems = password_problems(password, user)
    if problems:
        raise ValidationFailed(
            "密码不符合要求：" + "".join(problems), details={"password": "".join(problems)}
        )


def _new_user(
    *,
    username: str,
    password: str,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    check_password: bool = True,
) -> User:
    username = (username or "").strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(f"用户名“{username}”已被使用。", details={"username": "该用户名已被使用。"})
    user = User(username=username, full_name=full_name, email=email, phone=phone)
    if check_password:
        _clean_password(password, user)
    user.set_password(password)
    full_clean_or_raise(user, exclude=["password"])
    user.save()
    return user


@transaction.atomic
def organisation_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    region: Region | None = None,
    uscc: str | None = None,
    short_name: str = "",
    managed_categories: list[Category] | None = None,
    managed_programmes: list[Any] | None = None,
) -> Organisation:
    """Create an organisation directly (platform admins; the office for public bodies)."""
    if not policies.can_create_organisation(actor, kind):
        raise PermissionDeniedError("您无权创建此类单位。")
    org = Organisation(name=name, kind=kind, region=region, uscc=uscc or None, short_name=short_name)
    full_clean_or_raise(org)
    org.save()
    if managed_categories:
        org.managed_categories.set(managed_categories)
    if managed_programmes:
        org.managed_programmes.set(managed_programmes)
    audit.record(
        "accounts.organisation.created",
        target=org,
        actor=actor,
        new=audit.snapshot(org, [*ORGANISATION_FIELDS, "managed_categories", "managed_programmes"]),
    )
    return org


@transaction.atomic
def member_add(
    *,
    actor: Any,
    organisation: Organisation,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    check_password: bool = True,
) -> Membership:
    """Create a user account as a member of ``organisation``."""
    if not policies.can(actor, "manage_members", organisation):
        raise PermissionDeniedError("只有本单位管理员可以添加成员。")
    if role not in Membership.Role.values:
        raise ValidationFailed("角色无效。", details={"role": "请选择管理员、经办人或只读。"})
    user = _new_user(
        username=username,
        password=password,
        full_name=full_name,
        email=email,
        phone=phone,
        check_password=check_password,
    )
    membership = Membership.objects.create(user=user, organisation=organisation, role=role)
    audit.record(
        "accounts.user.created",
        target=user,
        actor=actor,
        new={"username": user.username, "full_name": full_name},
    )
    audit.record(
        "accounts.membership.created",
        target=membership,
        actor=actor,
        new={"organisation": organisation.pk, "role": role},
    )
    return membership


@transaction.atomic
def membership_update(
    *, actor: Any, membership: Membership, role: str | None = None, active: bool | None = None
) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not policies.can(actor, "manage_members", membership.organisation):
        raise PermissionDeniedError("只有本单位管理员可以修改成员。")
    if membership.user_id == getattr(actor, "pk", None) and (
        active is False or role not in (None, "manager")
    ):
        raise ValidationFailed("不能降低或停用自己的管理员权限，请由其他管理员操作。")
    values: dict[str, Any] = {}
    if role is not None:
        if role not in Membership.Role.values:
            raise ValidationFailed("角色无效。", details={"role": "请选择管理员、经办人或只读。"})
        values["role"] = role
    if active is not None:
        values["active"] = active
    old, new = assign(membership, values, allowed={"role", "active"})
    if new:
        membership.save(update_fields=list(new))
        audit.record("accounts.membership.updated", target=membership, actor=actor, old=old, new=new)
    return membership


@transaction.atomic
def enterprise_register(
    *,
    uscc: str,
    name: str,
    region: Region,
    legal_representative: str,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    username: str,
    password: str,
    kind: str = Organisation.Kind.ENTERPRISE,
) -> Membership:
    """Self-registration of an enterprise (or a regional/GI brand owner) by its credit code.

    The organisation starts *pending*; the city bureau of its region approves it. If the registry
    already holds the enterprise (imported from a list), the account is linked to that record.
    """
    from haopin.registry import services as registry_services
    from haopin.registry.validation import normalise_uscc

    if kind not in {Organisation.Kind.ENTERPRISE, Organisation.Kind.BRAND_OWNER}:
        raise ValidationFailed("只有企业和区域/地理标志品牌主体可以自行注册。")
    try:
        uscc = normalise_uscc(uscc)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={"uscc": exc.messages[0]}) from exc
    if region.level != Region.Level.COUNTY:
        raise ValidationFailed("请选择所在的县（市、区）。", details={"region": "请选择县级行政区划。"})
    if Organisation.objects.filter(uscc=uscc).exists():
        raise ValidationFailed(
            "该统一社会信用代码已注册，请联系本单位管理员开通账号。",
            details={"uscc": "该统一社会信用代码已注册。"},
        )
    org = Organisation(
        name=name.strip(), kind=kind, region=region, uscc=uscc, status=Organisation.Status.PENDING
    )
    full_clean_or_raise(org)
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError as exc:  # a concurrent registration with the same code won
        raise ConflictError(
            "该统一社会信用代码已注册。", details={"uscc": "该统一社会信用代码已注册。"}
        ) from exc
    user = _new_user(
        username=username, password=password, full_name=contact_name, email=contact_email, phone=contact_phone
    )
    membership = Membership.objects.create(user=user, organisation=org, role=Membership.Role.MANAGER)
    registry_services.enterprise_attach_organisation(
        organisation=org,
        actor=user,
        uscc=uscc,
        name=org.name,
        region=region,
        legal_representative=legal_representative,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
    )
    audit.record(
        "accounts.organisation.registered",
        target=org,
        actor=user,
        new=audit.snapshot(org, ORGANISATION_FIELDS),
    )
    return membership


@transaction.atomic
def organisation_review(
    *, actor: Any, organisation: Organisation, approve: bool, note: str = ""
) -> Organisation:
    """The city bureau (or the office) approves or rejects a pending registration."""
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if not policies.can(actor, "review", org):
        raise PermissionDeniedError("只有企业所在地市场监管部门可以审核该注册。")
    if org.status != Organisation.Status.PENDING:
        raise ConflictError(f"该注册已处理（当前状态：{org.get_status_display()}），无需重复审核。")
    if not approve and not note.strip():
        raise ValidationFailed("不予通过时请填写原因。", details={"note": "请填写不予通过的原因。"})
    org.status = Organisation.Status.ACTIVE if approve else Organisation.Status.REJECTED
    org.review_note = note.strip()
    org.reviewed_at = timezone.now()
    org.save(update_fields=["status", "review_note", "reviewed_at", "updated_at"])
    audit.record(
        "accounts.organisation.approved" if approve else "accounts.organisation.rejected",
        target=org,
        actor=actor,
        old={"status": "pending"},
        new={"status": org.status, "note": org.review_note},
    )
    return org


@transaction.atomic
def organisation_update(*, actor: Any, organisation: Organisation, **values: Any) -> Organisation:
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if not policies.can(actor, "edit", org):
        raise PermissionDeniedError("您无权修改该单位信息。")
    allowed = {"name", "short_name", "region"} if not policies.is_admin(actor) else set(ORGANISATION_FIELDS)
    old, new = assign(org, values, allowed=allowed)
    full_clean_or_raise(org)
    if new:
        org.save()
        audit.record("accounts.organisation.updated", target=org, actor=actor, old=old, new=new)
    return org


@transaction.atomic
def expert_create(
    *,
    actor: Any,
    username: str,
    password: str,
    full_name: str,
    employer: str,
    region: Region,
    specialities: list[Category],
    title: str = ExpertProfile.Title.SENIOR,
    employer_uscc: str = "",
    email: str = "",
    phone: str = "",
    check_password: bool = True,
) -> ExpertProfile:
    if not policies.can_manage_experts(actor):
        raise PermissionDeniedError("只有省质量强省办可以管理专家库。")
    if not specialities:
        raise ValidationFailed(
            "请至少选择一个专业领域。", details={"specialities": "请至少选择一个专业领域。"}
        )
    user = _new_user(
        username=username,
        password=password,
        full_name=full_name,
        email=email,
        phone=phone,
        check_password=check_password,
    )
    profile = ExpertProfile(
        user=user, employer=employer, region=region, title=title, employer_uscc=employer_uscc
    )
    full_clean_or_raise(profile, exclude=["specialities"])
    profile.save()
    profile.specialities.set(specialities)
    audit.record(
        "accounts.user.created",
        target=user,
        actor=actor,
        new={"username": user.username, "full_name": full_name},
    )
    audit.record(
        "accounts.expert.created",
        target=profile,
        actor=actor,
        new=audit.snapshot(
            profile, ["employer", "employer_uscc", "region", "title", "active", "specialities"]
        ),
    )
    return profile


@transaction.atomic
def expert_update(
    *, actor: Any, profile: ExpertProfile, specialities: list[Category] | None = None, **values: Any
) -> ExpertProfile:
    profile = ExpertProfile.objects.select_for_update().get(pk=profile.pk)
    if not policies.can_manage_experts(actor):
        raise PermissionDeniedError("只有省质量强省办可以管理专家库。")
    old, new = assign(
        profile, values, allowed={"employer", "employer_uscc", "region", "title", "active", "note"}
    )
    full_clean_or_raise(profile, exclude=["specialities"])
    if specialities is not None:
        if not specialities:
            raise ValidationFailed(
                "请至少选择一个专业领域。", details={"specialities": "请至少选择一个专业领域。"}
            )
        before = sorted(profile.specialities.values_list("pk", flat=True))
        after = sorted(c.pk for c in specialities)
        if before != after:
            profile.specialities.set(specialities)
            old["specialities"], new["specialities"] = before, after
    if new:
        profile.save()
        audit.record("accounts.expert.updated", target=profile, actor=actor, old=old, new=new)
    return profile


# --- platform accounts (the admin site) ------------------------------------------------------

USER_FIELDS = ["full_name", "email", "phone", "is_active", "is_staff", "is_superuser"]


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    is_superuser: bool = False,
) -> User:
    """A user without an organisation: a platform admin, or an account to attach later."""
    if not policies.is_admin(actor):
        raise PermissionDeniedError("只有平台管理员可以直接创建用户。")
    user = _new_user(username=username, password=password, full_name=full_name, email=email, phone=phone)
    if is_superuser:
        user.is_superuser = user.is_staff = True
        user.save(update_fields=["is_superuser", "is_staff"])
    audit.record(
        "accounts.user.created",
        target=user,
        actor=actor,
        new={"username": user.username, **audit.snapshot(user, USER_FIELDS)},
    )
    return user


@transaction.atomic
def user_update(*, actor: Any, user: User, **values: Any) -> User:
    """Platform admins change a person's details and platform rights (not their memberships)."""
    if not policies.is_admin(actor):
        raise PermissionDeniedError("只有平台管理员可以修改用户。")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk and (values.get("is_active") is False or values.get("is_superuser") is False):
        # An admin locking themselves out needs another admin to undo it.
        raise ValidationFailed("不能停用自己的账号或取消自己的平台管理员权限，请由其他管理员操作。")
    old, new = assign(user, values, allowed=set(USER_FIELDS))
    full_clean_or_raise(user, exclude=["password"])
    if new:
        user.save(update_fields=list(new))
        audit.record("accounts.user.updated", target=user, actor=actor, old=old, new=new)
    return user


@transaction.atomic
def user_set_password(*, actor: Any, user: User, password: str) -> User:
    """A platform admin sets a new password for someone who lost theirs."""
    if not policies.is_admin(actor):
        raise PermissionDeniedError("只有平台管理员可以重置密码。")
    user = User.objects.select_for_update().get(pk=user.pk)
    _clean_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    # The event says that it happened, never what the password is.
    audit.record("accounts.user.updated", target=user, actor=actor, new={"password": "（已重置）"})
    return user


@transaction.atomic
def organisation_set_scope(
    *,
    actor: Any,
    organisation: Organisation,
    managed_categories: list[Category],
    managed_programmes: list[Any],
) -> Organisation:
    """Set what a provincial department manages (its categories and source programmes)."""
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if not policies.is_admin(actor):
        raise PermissionDeniedError("只有平台管理员可以调整部门的主管范围。")
    if org.kind != Organisation.Kind.DEPARTMENT and (managed_categories or managed_programmes):
        raise ValidationFailed(
            "只有省直部门有主管类别和品牌来源。",
            details={"managed_categories": "只有省直部门有主管类别和品牌来源。"},
        )
    fields = ["managed_categories", "managed_programmes"]
    before = audit.snapshot(org, fields)
    org.managed_categories.set(managed_categories)
    org.managed_programmes.set(managed_programmes)
    old, new = audit.changes(before, audit.snapshot(org, fields))
    if new:
        audit.record("accounts.organisation.updated", target=org, actor=actor, old=old, new=new)
    return org


# --- API tokens ------------------------------------------------------------------------------

TOKEN_PREFIX = "hp"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(*, actor: User, name: str, days: int | None = 365) -> tuple[ApiToken, str]:
    """Create a token for ``actor``; the raw token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写令牌名称。", details={"name": "请填写令牌名称，如“数据同步”。"})
    if days is not None and not (1 <= days <= 3650):
        raise ValidationFailed("有效期应在 1～3650 天之间。", details={"days": "有效期应在 1～3650 天之间。"})
    if ApiToken.objects.filter(user=actor, name=name, revoked_at__isnull=True).exists():
        raise ValidationFailed("已有同名的有效令牌。", details={"name": "已有同名的有效令牌。"})
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    expires_at = timezone.now() + dt.timedelta(days=days) if days else None
    token = ApiToken.objects.create(
        user=actor, name=name, prefix=prefix, digest=_digest(raw), expires_at=expires_at
    )
    audit.record(
        "accounts.token.created",
        target=token,
        actor=actor,
        new={"name": name, "prefix": prefix, "expires_at": expires_at},
    )
    return token, raw


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk and not policies.is_admin(actor):
        raise PermissionDeniedError("只能吊销自己的令牌。")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            "accounts.token.revoked", target=token, actor=actor, new={"revoked_at": token.revoked_at}
        )
    return token


def token_authenticate(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None. Constant-time digest comparison."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(raw)):
        return None
    now = timezone.now()
    if token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    # Recording every use would turn each API read into a write; once a minute is enough.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
