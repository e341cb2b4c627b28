"""Admin site for users, organisations, memberships, experts and API tokens (platform admins only).

Nothing here saves a model itself: adding and changing go through ``accounts.services`` so the
admin site is audited and obeys the same rules as the workspace. Deleting people and
organisations is not offered (deactivate them instead: history must keep pointing at them);
tokens can only be looked at and revoked.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from haopin.accounts import services
from haopin.accounts.forms import password_problems
from haopin.accounts.models import ApiToken, ExpertProfile, Membership, Organisation, User
from haopin.core.admin import PlatformAdminOnly
from haopin.registry.validation import normalise_uscc

# Roles are memberships, not Django groups; an editable Group table would be a second,
# unaudited way to grant rights.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


def _adopt(form_instance: Any, saved: Any) -> None:
    """Make the admin's unsaved form instance stand for the row a service created."""
    form_instance.pk = saved.pk
    form_instance._state.adding = False
    form_instance._state.db = saved._state.db


def _check_password(form: forms.BaseForm, field: str, user: User | None = None) -> None:
    password = form.cleaned_data.get(field)
    if password:
        for problem in password_problems(password, user):
            form.add_error(field, problem)


def _clean_uscc_field(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_uscc(value)
    except ValidationError as exc:
        raise forms.ValidationError(exc.messages[0]) from exc


class NoDelete:
    """Put first among the bases: it overrides PlatformAdminOnly's permission."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- users -----------------------------------------------------------------------------------


class UserAddForm(forms.ModelForm):
    password = forms.CharField(label="初始密码", strip=False, widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ["username", "full_name", "email", "phone", "is_superuser"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_password(self, "password", User(username=data.get("username", "")))
        return data


class UserChangeForm(forms.ModelForm):
    new_password = forms.CharField(
        label="重置密码",
        strip=False,
        required=False,
        widget=forms.PasswordInput,
        help_text="留空则不修改。新密码请当面或电话告知本人。",
    )

    class Meta:
        model = User
        fields = ["full_name", "email", "phone", "is_active", "is_staff", "is_superuser"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_password(self, "new_password", self.instance)
        return data


@admin.register(User)
class UserAdmin(NoDelete, PlatformAdminOnly, admin.ModelAdmin):
    list_display = ["username", "full_name", "organisation_name", "is_active", "is_superuser", "last_login"]
    list_filter = ["is_active", "is_superuser", "membership__organisation__kind"]
    search_fields = ["username", "full_name", "email", "phone"]
    list_select_related = ["membership__organisation"]
    readonly_fields = ["username", "last_login", "date_joined"]

    @admin.display(description="单位", ordering="membership__organisation__name")
    def organisation_name(self, obj: User) -> str:
        membership = getattr(obj, "membership", None)
        return membership.organisation.name if membership else "—"

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = UserChangeForm if obj is not None else UserAddForm
        kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [
                (None, {"fields": ["username", "password", "full_name", "email", "phone", "is_superuser"]})
            ]
        return [
            (None, {"fields": ["username", "full_name", "email", "phone"]}),
            ("权限", {"fields": ["is_active", "is_staff", "is_superuser"]}),
            ("密码", {"fields": ["new_password"]}),
            ("记录", {"fields": ["last_login", "date_joined"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            user = services.user_create(
                actor=request.user,
                username=data["username"],
                password=data["password"],
                full_name=data["full_name"],
                email=data["email"],
                phone=data["phone"],
                is_superuser=data["is_superuser"],
            )
            _adopt(obj, user)
            return
        values = {name: data[name] for name in form.changed_data if name in services.USER_FIELDS}
        services.user_update(actor=request.user, user=obj, **values)
        if data.get("new_password"):
            services.user_set_password(actor=request.user, user=obj, password=data["new_password"])

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Users have no relations edited here."""


# --- organisations ---------------------------------------------------------------------------


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "short_name",
            "kind",
            "status",
            "region",
            "uscc",
            "managed_categories",
            "managed_programmes",
        ]

    def clean_uscc(self) -> str | None:
        return _clean_uscc_field(self.cleaned_data.get("uscc"))


class MembershipInline(admin.TabularInline):
    """Members are listed here; they are added and changed under 单位成员 (through the services)."""

    model = Membership
    fields = ["user", "role", "active", "created_at"]
    readonly_fields = ["user", "role", "active", "created_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(NoDelete, PlatformAdminOnly, admin.ModelAdmin):
    form = OrganisationForm
    list_display = ["name", "kind", "status", "region", "uscc", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "short_name", "=uscc"]
    list_select_related = ["region"]
    autocomplete_fields = ["region"]
    filter_horizontal = ["managed_categories", "managed_programmes"]
    readonly_fields = ["uuid", "review_note", "reviewed_at", "created_at", "updated_at"]
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            org = services.organisation_create(
                actor=request.user,
                name=data["name"],
                kind=data["kind"],
                region=data["region"],
                uscc=data["uscc"],
                short_name=data["short_name"],
                managed_categories=list(data["managed_categories"]),
                managed_programmes=list(data["managed_programmes"]),
            )
            if data["status"] != org.status:
                services.organisation_update(actor=request.user, organisation=org, status=data["status"])
            _adopt(obj, org)
            obj.uuid = org.uuid
            return
        fields = set(services.ORGANISATION_FIELDS)
        values = {name: data[name] for name in form.changed_data if name in fields}
        if values:
            services.organisation_update(actor=request.user, organisation=obj, **values)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            # The members inline is read-only: this only tells the admin's change message that
            # nothing changed there; nothing is written.
            formset.save(commit=False)
        if change and {"managed_categories", "managed_programmes"} & set(form.changed_data):
            services.organisation_set_scope(
                actor=request.user,
                organisation=form.instance,
                managed_categories=list(form.cleaned_data["managed_categories"]),
                managed_programmes=list(form.cleaned_data["managed_programmes"]),
            )


# --- memberships -----------------------------------------------------------------------------


class MembershipAddForm(forms.ModelForm):
    username = forms.CharField(label="登录用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=50)
    password = forms.CharField(label="初始密码", strip=False, widget=forms.PasswordInput)
    email = forms.EmailField(label="电子邮箱", required=False)
    phone = forms.CharField(label="手机号码", max_length=20, required=False)

    class Meta:
        model = Membership
        fields = ["organisation", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_password(self, "password", User(username=data.get("username", "")))
        return data


class MembershipChangeForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role", "active"]


@admin.register(Membership)
class MembershipAdmin(NoDelete, PlatformAdminOnly, admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "active", "created_at"]
    list_filter = ["role", "active", "organisation__kind"]
    search_fields = ["user__username", "user__full_name", "organisation__name"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["organisation"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = MembershipChangeForm if obj is not None else MembershipAddForm
        kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [
                (
                    None,
                    {
                        "fields": [
                            "organisation",
                            "role",
                            "username",
                            "full_name",
                            "password",
                            "email",
                            "phone",
                        ]
                    },
                )
            ]
        return [(None, {"fields": ["user", "organisation", "role", "active"]})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["user", "organisation"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            membership = services.member_add(
                actor=request.user,
                organisation=data["organisation"],
                username=data["username"],
                password=data["password"],
                role=data["role"],
                full_name=data["full_name"],
                email=data["email"],
                phone=data["phone"],
            )
            obj.user = membership.user
            _adopt(obj, membership)
            return
        values = {name: data[name] for name in form.changed_data if name in {"role", "active"}}
        if values:
            services.membership_update(actor=request.user, membership=obj, **values)


# --- experts ---------------------------------------------------------------------------------


class ExpertForm(forms.ModelForm):
    class Meta:
        model = ExpertProfile
        fields = ["employer", "employer_uscc", "region", "title", "specialities", "active", "note"]

    def clean_employer_uscc(self) -> str:
        return _clean_uscc_field(self.cleaned_data.get("employer_uscc")) or ""


class ExpertAddForm(ExpertForm):
    username = forms.CharField(label="登录用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=50)
    password = forms.CharField(label="初始密码", strip=False, widget=forms.PasswordInput)
    email = forms.EmailField(label="电子邮箱", required=False)
    phone = forms.CharField(label="手机号码", max_length=20, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_password(self, "password", User(username=data.get("username", "")))
        return data


@admin.register(ExpertProfile)
class ExpertAdmin(NoDelete, PlatformAdminOnly, admin.ModelAdmin):
    list_display = ["user", "employer", "region", "title", "active"]
    list_filter = ["title", "active"]
    search_fields = ["user__username", "user__full_name", "employer", "=employer_uscc"]
    list_select_related = ["user", "region"]
    autocomplete_fields = ["region"]
    filter_horizontal = ["specialities"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = ExpertForm if obj is not None else ExpertAddForm
        kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        profile = ["employer", "employer_uscc", "region", "title", "specialities", "active", "note"]
        if obj is None:
            return [
                ("账号", {"fields": ["username", "full_name", "password", "email", "phone"]}),
                ("专家信息", {"fields": [f for f in profile if f not in {"active", "note"}]}),
            ]
        return [("专家", {"fields": ["user"]}), ("专家信息", {"fields": profile})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["user"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: ExpertProfile, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
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
            obj.user = profile.user
            _adopt(obj, profile)
            return
        fields = {"employer", "employer_uscc", "region", "title", "active", "note"}
        values = {name: data[name] for name in form.changed_data if name in fields}
        specialities = list(data["specialities"]) if "specialities" in form.changed_data else None
        if values or specialities is not None:
            services.expert_update(actor=request.user, profile=obj, specialities=specialities, **values)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Specialities were saved by the service, with the rest of the profile."""


# --- API tokens ------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(NoDelete, PlatformAdminOnly, admin.ModelAdmin):
    """Read-only: the secret is not stored, so there is nothing to show or edit but metadata."""

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "=prefix", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="吊销所选令牌")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.token_revoke(actor=cast(User, request.user), token=token)
            count += 1
        self.message_user(request, f"已吊销 {count} 个令牌。", messages.SUCCESS)
