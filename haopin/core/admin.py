"""Admin site for reference data (audited through core.services) and the audit trail (read-only).

The admin site is for platform admins (superusers) only; a staff account with model
permissions sees nothing here. Every save and delete of a reference row goes through
``reference_save`` / ``reference_delete``, so it lands in the audit chain like any other write.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from haopin.core import services
from haopin.core.audit import action_label
from haopin.core.models import AuditEvent, BrandType, Category, IndustryCode, Region, SourceProgramme, Tier


class PlatformAdminOnly:
    """Only active superusers may see or use this part of the admin site."""

    @staticmethod
    def _is_platform_admin(request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_platform_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_platform_admin(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._is_platform_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_platform_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_platform_admin(request)


class ReferenceAdmin(PlatformAdminOnly, admin.ModelAdmin):
    """Saves and deletes through the audited reference services."""

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        original = None
        if change:
            # The form has already applied the edit to ``obj``; the row in the database is the
            # state before it.
            original = services.reference_snapshot(type(obj)._default_manager.get(pk=obj.pk))
        services.reference_save(actor=request.user, obj=obj, original=original)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        services.reference_delete(actor=request.user, obj=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            services.reference_delete(actor=request.user, obj=obj)


@admin.register(Region)
class RegionAdmin(ReferenceAdmin):
    list_display = ["code", "name", "name_en", "level", "parent", "active"]
    list_filter = ["level", "active"]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]


@admin.register(Category)
class CategoryAdmin(ReferenceAdmin):
    list_display = ["code", "name", "name_en", "level", "parent", "active"]
    list_filter = ["level", "active"]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]


@admin.register(BrandType)
class BrandTypeAdmin(ReferenceAdmin):
    list_display = ["code", "name", "name_en", "position"]
    search_fields = ["code", "name"]


@admin.register(SourceProgramme)
class SourceProgrammeAdmin(ReferenceAdmin):
    list_display = ["code", "name", "issuer", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name", "issuer"]


@admin.register(Tier)
class TierAdmin(ReferenceAdmin):
    list_display = ["code", "name", "name_en", "rank"]


@admin.register(IndustryCode)
class IndustryCodeAdmin(ReferenceAdmin):
    list_display = ["code", "name", "section"]
    search_fields = ["code", "name"]
    list_select_related = ["section"]
    autocomplete_fields = ["section"]


@admin.register(AuditEvent)
class AuditEventAdmin(PlatformAdminOnly, admin.ModelAdmin):
    """The trail can be read here; it is never written here, not even by a superuser."""

    list_display = ["seq", "created_at", "action_name", "actor_label", "target_type", "target_label"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_label", "actor_label", "request_id", "=target_id"]
    date_hierarchy = "created_at"
    ordering = ["-seq"]
    show_full_result_count = False  # counting a long trail on every page is not worth it
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @admin.display(description="操作", ordering="action")
    def action_name(self, obj: AuditEvent) -> str:
        return action_label(obj.action)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
