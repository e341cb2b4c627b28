"""The registry in the admin site, for platform admins.

The admin is one more entry point like the workspace and the API: its querysets come from
``registry.policies`` and its saves go through ``registry.services`` (validated first by a dry
run of the same service, so that a rule broken shows up next to the field instead of as an
error page). What no service covers is read-only here, with the reason given where it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.registry import policies, services
from haopin.registry.forms import dry_run, show_error
from haopin.registry.models import Brand, BrandSource, Document, Enterprise, ImportJob, Product


def _platform_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser)


class ScopedAdmin(admin.ModelAdmin):
    """Rows and permissions from the registry policy, for platform admins only."""

    policy_queryset: Callable[[Any], QuerySet]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = self.policy_queryset(request.user)
        if self.list_select_related:
            # The subclasses name their relations (never ``list_select_related = True``).
            qs = qs.select_related(*cast(Sequence[str], self.list_select_related))
        return qs

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _platform_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _platform_admin(request) and (obj is None or policies.can(request.user, "view", obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ServiceAdmin(ScopedAdmin):
    """Adds and changes through a service: subclasses define ``create`` and ``update``."""

    service_fields: list[str] = []
    non_field_to: str | None = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _platform_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _platform_admin(request) and (obj is None or policies.can(request.user, "change", obj))

    # --- writes through services ---------------------------------------------------------
    def create(self, request: HttpRequest, form: ModelForm, values: dict[str, Any]) -> Model:
        raise NotImplementedError(f"{type(self).__name__} must call its create service")

    def update(self, request: HttpRequest, obj: Model, values: dict[str, Any]) -> Model:
        raise NotImplementedError(f"{type(self).__name__} must call its update service")

    def values_of(self, form: ModelForm, change: bool) -> dict[str, Any]:
        names = [n for n in self.service_fields if n in form.cleaned_data]
        if change:
            names = [n for n in names if n in form.changed_data]
        return {n: form.cleaned_data[n] for n in names}

    def _call(self, request: HttpRequest, form: ModelForm, change: bool) -> Model:
        values = self.values_of(form, change)
        if change:
            return self.update(request, form.instance, values)
        return self.create(request, form, values)

    def get_form(self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any):
        base = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceCheckedForm(base):  # type: ignore[misc, valid-type]
            def _post_clean(self) -> None:
                super()._post_clean()
                if self.errors:
                    return
                try:
                    dry_run(lambda: model_admin._call(request, self, obj is not None))
                except (ValidationFailed, ConflictError, PermissionDeniedError) as exc:
                    show_error(self, exc, non_field_to=model_admin.non_field_to)

        return ServiceCheckedForm

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        saved = self._call(request, form, change)
        # The admin goes on with ``obj`` (log entry, redirect): give it the saved identity.
        obj.pk = saved.pk
        if hasattr(saved, "uuid"):
            cast(Any, obj).uuid = saved.uuid
        obj._state.adding = False
        obj._state.db = saved._state.db


@admin.register(Enterprise)
class EnterpriseAdmin(ServiceAdmin):
    policy_queryset = staticmethod(policies.enterprises_for_user)
    service_fields = services.ENTERPRISE_FIELDS
    list_display = ["name", "uscc", "region", "industry_code", "size", "updated_at"]
    list_select_related = ["region"]
    list_filter = ["size"]
    search_fields = ["name", "uscc"]
    # Linking an enterprise to a platform account happens when its registration is approved
    # (accounts.services → enterprise_attach_organisation), never by hand.
    readonly_fields = ["organisation", "created_at", "updated_at"]
    fields = ["uscc", *services.ENTERPRISE_FIELDS, "organisation", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        # The credit code identifies the enterprise: enterprise_update does not change it.
        return [*self.readonly_fields, "uscc"] if obj is not None else list(self.readonly_fields)

    def create(self, request: HttpRequest, form: ModelForm, values: dict[str, Any]) -> Model:
        return services.enterprise_create(actor=request.user, uscc=form.cleaned_data["uscc"], **values)

    def update(self, request: HttpRequest, obj: Model, values: dict[str, Any]) -> Model:
        return services.enterprise_update(actor=request.user, enterprise=cast(Enterprise, obj), **values)

    # No service deletes an enterprise: brands, documents and the audit trail refer to it.


class BrandSourceInline(admin.TabularInline):
    """Read-only: a source's evidence file is uploaded and checked in the workspace
    (document_upload, then brand_source_set); the admin has no such upload path."""

    model = BrandSource
    extra = 0
    fields = ["programme", "certificate_number", "year", "document", "created_at"]
    readonly_fields = cast(list[str], fields)  # the same plain field names
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Brand)
class BrandAdmin(ServiceAdmin):
    policy_queryset = staticmethod(policies.brands_for_user)
    service_fields = [*services.BRAND_FIELDS, "status"]
    non_field_to = "name"
    list_display = ["name", "owner", "brand_type", "category", "region", "tier", "status", "updated_at"]
    list_select_related = ["owner", "brand_type", "category", "region", "tier"]
    list_filter = ["status", "tier", "brand_type"]
    search_fields = ["name", "owner__name", "owner__uscc"]
    raw_id_fields = ["owner"]
    # The logo is an uploaded image checked by brand_set_logo in the workspace.
    readonly_fields = ["logo", "created_at", "updated_at"]
    fields = ["owner", *services.BRAND_FIELDS, "status", "logo", "created_at", "updated_at"]
    inlines = [BrandSourceInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        # A brand does not change owner (brand_update does not allow it); a new brand is active.
        if obj is not None:
            return [*self.readonly_fields, "owner"]
        return [*self.readonly_fields, "status"]

    def create(self, request: HttpRequest, form: ModelForm, values: dict[str, Any]) -> Model:
        return services.brand_create(actor=request.user, owner=form.cleaned_data["owner"], **values)

    def update(self, request: HttpRequest, obj: Model, values: dict[str, Any]) -> Model:
        return services.brand_update(actor=request.user, brand=cast(Brand, obj), **values)

    # No service deletes a brand: certificates and applications will refer to it.


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    policy_queryset = staticmethod(policies.products_for_user)
    service_fields = services.PRODUCT_FIELDS
    non_field_to = "name"
    list_display = ["name", "specification", "kind", "brand", "gtin", "updated_at"]
    list_select_related = ["brand"]
    list_filter = ["kind"]
    search_fields = ["name", "gtin", "brand__name"]
    raw_id_fields = ["brand"]
    readonly_fields = ["created_at", "updated_at"]
    fields = ["brand", *services.PRODUCT_FIELDS, "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [*self.readonly_fields, "brand"] if obj is not None else list(self.readonly_fields)

    def create(self, request: HttpRequest, form: ModelForm, values: dict[str, Any]) -> Model:
        return services.product_create(actor=request.user, brand=form.cleaned_data["brand"], **values)

    def update(self, request: HttpRequest, obj: Model, values: dict[str, Any]) -> Model:
        return services.product_update(actor=request.user, product=cast(Product, obj), **values)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _platform_admin(request) and (obj is None or policies.can(request.user, "delete", obj))

    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        services.product_delete(actor=request.user, product=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        # One audited deletion per product, as from the workspace.
        for product in queryset:
            services.product_delete(actor=request.user, product=product)
        messages.info(request, "每个产品的删除都已记入审计日志。")


@admin.register(Document)
class DocumentAdmin(ScopedAdmin):
    """Read-only: uploads are size-checked, sniffed and hashed by document_upload, and their
    metadata (type, size, checksum) must keep describing the stored file. Files that no row
    refers to any more are removed by ``manage.py documents_prune``."""

    policy_queryset = staticmethod(policies.documents_for_user)
    list_display = ["__str__", "purpose", "enterprise", "content_type", "size", "created_at"]
    list_select_related = ["enterprise"]
    list_filter = ["purpose"]
    search_fields = ["title", "original_name", "sha256", "enterprise__name"]


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdmin):
    """Read-only: an import's status, errors and summary are written by the import service."""

    policy_queryset = staticmethod(policies.imports_for_user)
    list_display = ["__str__", "organisation", "status", "row_count", "error_count", "created_at"]
    list_select_related = ["document", "organisation"]
    list_filter = ["status"]
