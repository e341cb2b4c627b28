"""Account pages: self-registration and its review, organisations and members, the expert pool,
and API tokens (login and logout are Django's own views).

Views parse input, ask ``accounts.policies`` (through the selectors) and call a service; every
rule lives in the service or the policy. Objects outside the user's view are 404, visible
objects the user may not change are 403.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from haopin.accounts import policies, selectors, services
from haopin.accounts.forms import (
    ExpertCreateForm,
    ExpertEditForm,
    MemberAddForm,
    MemberUpdateForm,
    OrganisationCreateForm,
    RegistrationForm,
    ReviewForm,
    apply_errors,
)
from haopin.accounts.models import ExpertProfile, Membership, Organisation, User
from haopin.core import workspace
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.http import HtmxHttpRequest
from haopin.core.listing import Column, Filter, Listing
from haopin.core.middleware import client_ip
from haopin.core.models import Region
from haopin.core.policies import ScopeKind, deny_unless, scope_of
from haopin.core.selectors import category_choices, region_choices

# --- helpers ---------------------------------------------------------------------------------


class HtmxRequest(HtmxHttpRequest):
    """A request that went through django-htmx's middleware (for type checkers)."""

    user: User


def _nav(request: HtmxRequest) -> dict[str, Any]:
    """The workspace navigation: the context processor adds it only under /workspace/."""
    if request.user.is_authenticated:
        return {"nav": workspace.navigation(request.user, request.path)}
    return {}


def _render(
    request: HtmxRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render(request, template, {**_nav(request), **context}, status=status)


def _field_response(request: HtmxRequest, form: Any, *, hint: str = "") -> HttpResponse:
    """Inline validation: the changed field alone, re-rendered with its errors (or a hint)."""
    name = request.htmx.trigger_name if request.htmx else None
    if not name or name not in form.fields:
        return HttpResponseBadRequest("未知字段。")
    form.is_valid()
    return render(request, "accounts/field.html", {"f": form[name], "hint": hint})


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds


# Registration is public. Per client address and hour: 20 submissions leave room for a person
# who mistypes, or for a service hall that registers several enterprises from one address, and
# stop a script from filling the bureaus' review lists. Inline checks come one per changed
# field, so they get more, but still bounded: nobody enumerates user names or registered credit
# codes in bulk through them. The counters live in the cache: local memory on one machine,
# Redis (HAOPIN_REDIS_URL) when several app servers must share them.
REGISTER_RATE = Rate(limit=20, window=3600)
VALIDATE_RATE = Rate(limit=300, window=3600)


def over_limit(request: HtmxRequest, bucket: str, rate: Rate) -> bool:
    """Count one hit for the client address in a fixed window; True once it exceeds the rate."""
    window = int(time.time() // rate.window)
    key = f"haopin:throttle:{bucket}:{client_ip(request) or 'unknown'}:{window}"
    cache.add(key, 0, rate.window)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, rate.window)
        count = 1
    return count > rate.limit


# --- self-registration -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HtmxRequest) -> HttpResponse:
    """Public: an enterprise or a regional/GI brand owner registers with its credit code."""
    if request.user.is_authenticated and request.method == "GET":
        messages.info(request, "您已登录。如需为其他单位注册，请先退出当前账号。")
        return redirect("workspace:home")
    form = RegistrationForm(request.POST if request.method == "POST" else None)
    form.enable_inline_validation(reverse("accounts:register"))
    if request.method == "POST" and request.htmx:
        if over_limit(request, "register-check", VALIDATE_RATE):
            return HttpResponse("操作过于频繁，请稍后再试。", status=429)
        form.is_valid()
        hint = form.uscc_hint if request.htmx.trigger_name == "uscc" else ""
        return _field_response(request, form, hint=hint)
    throttled = False
    if request.method == "POST":
        if over_limit(request, "register", REGISTER_RATE):
            throttled = True
        elif form.is_valid():
            try:
                membership = services.enterprise_register(**form.service_arguments())
            except (ValidationFailed, ConflictError) as exc:
                apply_errors(form, exc)
            else:
                request.session["registered_organisation"] = str(membership.organisation.uuid)
                return redirect("accounts:register-done")
    return render(
        request,
        "accounts/register.html",
        {"form": form, "throttled": throttled, "rate": REGISTER_RATE},
        status=429 if throttled else 200,
    )


def register_done(request: HtmxRequest) -> HttpResponse:
    """The result page; it shows only the registration made in this browser session."""
    uuid = request.session.get("registered_organisation")
    org = None
    if uuid:
        org = Organisation.objects.select_related("region__parent").filter(uuid=uuid).first()
    if org is None:
        return redirect("accounts:register")
    return render(
        request,
        "accounts/register_done.html",
        {"org": org, "bureau": selectors.city_bureau_for(org.region)},
    )


# --- review of registrations -----------------------------------------------------------------


def _city_filter(name: str = "city") -> Filter:
    return Filter(
        name,
        "所在市",
        lambda request: region_choices(request.user),
        lambda qs, code: qs.filter(region__code__startswith=code[:4]),
    )


def _region_name(obj: Any) -> str:
    return obj.region.full_name if obj.region_id else ""


class RegistrationListing(Listing):
    title = "待审核的企业注册"
    columns = [
        Column("name", "单位名称", sort="name", link=True, width=30),
        Column("uscc", "统一社会信用代码", sort="uscc", width=22),
        Column("kind", "主体类型", value=lambda o: o.get_kind_display(), width=16),
        Column("region", "所在区划", value=_region_name, width=18),
        Column("created_at", "提交时间", sort="created_at", width=20),
    ]
    filters = [_city_filter()]
    search_kind = "accounts.organisation"  # name, short name, credit code
    search_placeholder = "单位名称、信用代码或拼音"
    default_sort = "created_at"
    select_related = ["region__parent"]
    export_name = "待审核的企业注册"

    def queryset(self) -> QuerySet[Organisation]:
        return selectors.registration_list_for_user(self.request.user)

    def object_url(self, obj: Organisation) -> str:
        return reverse("accounts:registration-detail", args=[obj.uuid])


@login_required
def registration_list(request: HtmxRequest) -> HttpResponse | FileResponse:
    deny_unless(
        selectors.is_registration_reviewer(request.user),
        "企业注册由所在地市场监管部门和省质量强省办审核，您的账号无审核权限。",
    )
    return RegistrationListing(request, **_nav(request)).response()


@login_required
@require_http_methods(["GET", "POST"])
def registration_detail(request: HtmxRequest, uuid: Any) -> HttpResponse:
    org = selectors.registration_get_for_user(request.user, uuid)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        deny_unless(
            policies.can(request.user, "review", org),
            "只有企业所在地市场监管部门可以审核该注册。",
        )
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                services.organisation_review(
                    actor=request.user, organisation=org, approve=approve, note=form.cleaned_data["note"]
                )
            except ConflictError as exc:
                # Another reviewer decided first; show what they decided instead of an error page.
                messages.warning(request, f"{exc.message}可能已由其他审核人处理，请查看审核结果。")
                return redirect("accounts:registration-detail", uuid=org.uuid)
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                verdict = "已通过，该单位现在可以登录使用平台" if approve else "已不予通过"
                messages.success(request, f"“{org.name}”的注册{verdict}。")
                return redirect("accounts:registration-list")
    enterprise = getattr(org, "enterprise", None)
    uscc_division = None
    if org.uscc:
        uscc_division = Region.objects.select_related("parent").filter(code=org.uscc[2:8]).first()
    return _render(
        request,
        "accounts/registration_detail.html",
        {
            "org": org,
            "form": form,
            "can_review": org.status == Organisation.Status.PENDING
            and policies.can(request.user, "review", org),
            "applicant": selectors.organisation_manager(org),
            "enterprise": enterprise,
            "uscc_division": uscc_division,
            "division_matches": uscc_division is not None
            and org.region is not None
            and org.region.code.startswith(uscc_division.prefix),
            "decision": selectors.reviewer_for(org),
            "history": selectors.organisation_history(org)[:50],
        },
    )


# --- organisations ---------------------------------------------------------------------------


class OrganisationListing(Listing):
    title = "单位"
    columns = [
        Column("name", "单位名称", sort="name", link=True, width=32),
        Column("kind", "单位类型", sort="kind", value=lambda o: o.get_kind_display(), width=18),
        Column("status", "状态", sort="status", value=lambda o: o.get_status_display(), width=10),
        Column("region", "所在区划", sort="region__code", value=_region_name, width=18),
        Column("uscc", "统一社会信用代码", width=22),
        Column("created_at", "创建时间", sort="created_at", width=20),
    ]
    filters = [
        Filter.lookup("kind", "单位类型", "kind", lambda request: Organisation.Kind.choices),
        Filter.lookup("status", "状态", "status", lambda request: Organisation.Status.choices),
        _city_filter(),
    ]
    search_kind = "accounts.organisation"  # name, short name, credit code
    search_placeholder = "单位名称、简称、信用代码或拼音"
    default_sort = "name"
    select_related = ["region__parent"]
    export_name = "单位"

    def __init__(self, request: HtmxRequest, **context: Any):
        super().__init__(request, **context)
        if any(policies.can_create_organisation(request.user, kind) for kind in policies.PUBLIC_BODY_KINDS):
            self.actions = [("新建单位", reverse("accounts:organisation-create"))]

    def queryset(self) -> QuerySet[Organisation]:
        return selectors.organisation_list_for_user(self.request.user)


@login_required
def organisation_list(request: HtmxRequest) -> HttpResponse | FileResponse:
    scope = scope_of(request.user)
    if scope.kind in {ScopeKind.ORGANISATION, ScopeKind.DEPARTMENT} and scope.organisation_id:
        # They see only their own organisation: go straight to it.
        own = selectors.organisation_list_for_user(request.user).get(pk=scope.organisation_id)
        return redirect(own.get_absolute_url())
    if scope.kind == ScopeKind.NONE:
        raise PermissionDeniedError("您的账号不属于任何已启用的单位，无法查看单位信息。")
    return OrganisationListing(request, **_nav(request)).response()


def _organisation_page(
    request: HtmxRequest, org: Organisation, *, member_form: MemberAddForm | None = None, status: int = 200
) -> HttpResponse:
    can_manage = org.status == Organisation.Status.ACTIVE and policies.can(
        request.user, "manage_members", org
    )
    if can_manage and member_form is None:
        member_form = MemberAddForm()
    if member_form is not None:
        member_form.enable_inline_validation(reverse("accounts:member-add", args=[org.uuid]))
    enterprise = getattr(org, "enterprise", None)
    return _render(
        request,
        "accounts/organisation_detail.html",
        {
            "org": org,
            "members": selectors.organisation_members(org),
            "can_manage": can_manage,
            "member_form": member_form if can_manage else None,
            "roles": Membership.Role.choices,
            "enterprise": enterprise,
            "managed_categories": org.managed_categories.all(),
            "managed_programmes": org.managed_programmes.all(),
            "history": selectors.organisation_history(org)[:100],
            "can_review": org.status == Organisation.Status.PENDING
            and policies.can(request.user, "review", org),
        },
        status=status,
    )


@login_required
def organisation_detail(request: HtmxRequest, uuid: Any) -> HttpResponse:
    org = selectors.organisation_get_for_user(request.user, uuid)
    return _organisation_page(request, org)


@login_required
@require_POST
def member_add(request: HtmxRequest, uuid: Any) -> HttpResponse:
    org = selectors.organisation_get_for_user(request.user, uuid)
    deny_unless(policies.can(request.user, "manage_members", org), "只有本单位管理员可以添加成员。")
    form = MemberAddForm(request.POST)
    form.enable_inline_validation(reverse("accounts:member-add", args=[org.uuid]))
    if request.htmx:
        return _field_response(request, form)
    if form.is_valid():
        data = form.cleaned_data
        try:
            membership = services.member_add(
                actor=request.user,
                organisation=org,
                username=data["username"],
                password=data["password"],
                role=data["role"],
                full_name=data["full_name"],
                email=data["email"],
                phone=data["phone"],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"已添加成员“{membership.user}”（{membership.get_role_display()}），"
                f"登录用户名为 {membership.user.username}。",
            )
            return redirect(f"{org.get_absolute_url()}#members")
    return _organisation_page(request, org, member_form=form)


@login_required
@require_POST
def member_update(request: HtmxRequest, uuid: Any, pk: int) -> HttpResponse:
    org = selectors.organisation_get_for_user(request.user, uuid)
    membership = Membership.objects.filter(organisation=org, pk=pk).select_related("user").first()
    if membership is None:
        raise NotFoundError()
    form = MemberUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请求内容不正确。")
        return redirect(f"{org.get_absolute_url()}#members")
    role = form.cleaned_data["role"] or None
    active = form.cleaned_data["active"]
    try:
        services.membership_update(actor=request.user, membership=membership, role=role, active=active)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        if active is False:
            messages.success(request, f"已停用成员“{membership.user}”，其账号不能再访问本单位数据。")
        elif active is True:
            messages.success(request, f"已启用成员“{membership.user}”。")
        else:
            messages.success(request, f"已更新成员“{membership.user}”的角色。")
    return redirect(f"{org.get_absolute_url()}#members")


@login_required
@require_http_methods(["GET", "POST"])
def organisation_create(request: HtmxRequest) -> HttpResponse:
    deny_unless(
        any(policies.can_create_organisation(request.user, kind) for kind in policies.PUBLIC_BODY_KINDS),
        "只有省质量强省办管理员和平台管理员可以创建单位。",
    )
    form = OrganisationCreateForm(request.POST if request.method == "POST" else None, user=request.user)
    form.enable_inline_validation(reverse("accounts:organisation-create"))
    if request.method == "POST" and request.htmx:
        return _field_response(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = services.organisation_create(
                actor=request.user,
                name=data["name"],
                kind=data["kind"],
                region=data["region"],
                uscc=data["uscc"] or None,
                short_name=data["short_name"],
                managed_categories=list(data["managed_categories"]),
                managed_programmes=list(data["managed_programmes"]),
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"已创建单位“{org.name}”。")
            return redirect(org.get_absolute_url())
    return _render(
        request,
        "accounts/organisation_form.html",
        {
            "form": form,
            "tree": selectors.category_tree(max_level=2),
            "selected_categories": _selected(form, "managed_categories"),
        },
    )


def _selected(form: Any, name: str) -> set[str]:
    value = form[name].value() or []
    return {str(v) for v in value}


# --- experts ---------------------------------------------------------------------------------


def _speciality_filter(qs: QuerySet[ExpertProfile], code: str) -> QuerySet[ExpertProfile]:
    """Experts qualified for a category: a speciality in its subtree or one of its ancestors
    (category codes nest by prefix: 2 → 201 → 20101)."""
    ancestors = [code[:n] for n in range(1, len(code))]
    through = ExpertProfile.specialities.through.objects.filter(
        Q(category__code__startswith=code) | Q(category__code__in=ancestors)
    )
    return qs.filter(pk__in=through.values("expertprofile_id"))


class ExpertListing(Listing):
    title = "专家库"
    columns = [
        Column("name", "姓名", sort="user__full_name", link=True, value=lambda e: str(e.user), width=12),
        Column("user__username", "用户名", sort="user__username", width=14),
        Column("employer", "工作单位", sort="employer", width=28),
        Column("region", "所在区划", sort="region__code", value=_region_name, width=16),
        Column("title", "职称", sort="title", value=lambda e: e.get_title_display(), width=10),
        Column(
            "specialities",
            "专业领域",
            value=lambda e: [c.name for c in e.specialities.all()],
            width=36,
        ),
        Column("active", "在库", sort="active", width=8),
    ]
    filters = [
        Filter("speciality", "专业领域", lambda request: category_choices(max_level=2), _speciality_filter),
        _city_filter(),
        Filter.lookup("title", "职称", "title", lambda request: ExpertProfile.Title.choices),
        Filter.lookup("active", "在库", "active", lambda request: [("True", "在库"), ("False", "已出库")]),
    ]
    search_kind = "accounts.expertprofile"  # name, user name, employer
    search_placeholder = "姓名、用户名、工作单位或拼音"
    default_sort = "user__username"
    select_related = ["user", "region__parent"]
    export_name = "专家库"

    def __init__(self, request: HtmxRequest, **context: Any):
        super().__init__(request, **context)
        if policies.can_manage_experts(request.user):
            self.actions = [("专家入库", reverse("accounts:expert-create"))]

    def queryset(self) -> QuerySet[ExpertProfile]:
        return selectors.expert_list_for_user(self.request.user)

    def filtered(self) -> QuerySet[ExpertProfile]:
        # One query for the specialities of the whole page (or export chunk), not one per row.
        return super().filtered().prefetch_related("specialities")


@login_required
def expert_list(request: HtmxRequest) -> HttpResponse | FileResponse:
    if not policies.is_office(request.user):
        profile = selectors.expert_profile_of(request.user)
        if profile is not None:
            return redirect(profile.get_absolute_url())
        raise PermissionDeniedError("专家库仅对省质量强省办开放。")
    return ExpertListing(request, **_nav(request)).response()


@login_required
def expert_detail(request: HtmxRequest, pk: int) -> HttpResponse:
    profile = selectors.expert_get_for_user(request.user, pk)
    return _render(
        request,
        "accounts/expert_detail.html",
        {
            "profile": profile,
            "can_edit": policies.can_manage_experts(request.user),
            "history": selectors.expert_history(profile)[:100],
        },
    )


def _expert_form_page(request: HtmxRequest, form: Any, profile: ExpertProfile | None) -> HttpResponse:
    return _render(
        request,
        "accounts/expert_form.html",
        {
            "form": form,
            "profile": profile,
            "tree": selectors.category_tree(),
            "selected": _selected(form, "specialities"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def expert_create(request: HtmxRequest) -> HttpResponse:
    deny_unless(policies.can_manage_experts(request.user), "只有省质量强省办可以管理专家库。")
    form = ExpertCreateForm(request.POST if request.method == "POST" else None)
    form.enable_inline_validation(reverse("accounts:expert-create"))
    if request.method == "POST" and request.htmx:
        return _field_response(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            profile = services.expert_create(
                actor=request.user,
                username=data["username"],
                password=data["password"],
                full_name=data["full_name"],
                email=data["email"],
                phone=data["phone"],
                employer=data["employer"],
                employer_uscc=data["employer_uscc"],
                region=data["region"],
                title=data["title"],
                specialities=list(data["specialities"]),
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"专家“{profile.user}”已入库。")
            return redirect(profile.get_absolute_url())
    return _expert_form_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def expert_edit(request: HtmxRequest, pk: int) -> HttpResponse:
    profile = selectors.expert_get_for_user(request.user, pk)
    deny_unless(policies.can_manage_experts(request.user), "只有省质量强省办可以管理专家库。")
    if request.method == "POST":
        form = ExpertEditForm(request.POST)
    else:
        form = ExpertEditForm(initial=ExpertEditForm.initial_for(profile))
    form.enable_inline_validation(reverse("accounts:expert-edit", args=[profile.pk]))
    if request.method == "POST" and request.htmx:
        return _field_response(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.expert_update(
                actor=request.user,
                profile=profile,
                specialities=list(data["specialities"]),
                employer=data["employer"],
                employer_uscc=data["employer_uscc"],
                region=data["region"],
                title=data["title"],
                active=data["active"],
                note=data["note"],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "专家信息已保存。")
            return redirect(profile.get_absolute_url())
    return _expert_form_page(request, form, profile)


# --- API tokens ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HtmxRequest) -> HttpResponse:
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
    return _render(
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
def token_revoke(request: HtmxRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(selectors.tokens_for_user(request.user), pk=pk)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, f"令牌“{token.name}”已吊销。")
    return redirect("accounts:tokens")
