"""Workspace pages of the bulk import: the list, the template, the upload, the report, the commit.

Thin views over ``registry.imports``: the services decide who may import and what is valid;
these pages parse the request, call them and show the outcome. Everything works without
JavaScript (a plain multipart form and POST buttons).
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.http import content_disposition
from haopin.core.listing import Column, Filter, Listing
from haopin.core.policies import ScopeKind, get_visible, scope_of
from haopin.core.workspace import NavItem, TodoItem
from haopin.registry import imports, policies, selectors
from haopin.registry.models import ImportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_PER_PAGE = 50
WARNINGS_SHOWN = 200


def may_see_imports(user: Any) -> bool:
    """Imports are a tool of the office, departments and bureaus (read-only members see them)."""
    return scope_of(user).kind in {ScopeKind.ALL, ScopeKind.REGION, ScopeKind.DEPARTMENT}


def _require_imports(user: Any) -> None:
    if not may_see_imports(user):
        raise PermissionDeniedError("批量导入仅对省质量强省办、省直部门和市县市场监管局开放。")


def _xlsx_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(name)
    return response


def _visible_job(request: HttpRequest, uuid: Any) -> ImportJob:
    return cast(ImportJob, get_visible(selectors.import_list_for_user(request.user), uuid=uuid))


class ImportListing(Listing):
    title = "批量导入"
    columns = [
        Column("created_at", "上传时间", sort="created_at", link=True, width=18),
        Column("document__original_name", "文件名", link=True, width=30),
        Column("status", "状态", value=lambda job: job.get_status_display(), width=12),
        Column("row_count", "数据行数", sort="row_count", width=10),
        Column("error_count", "错误数", sort="error_count", width=10),
        Column("created_by", "上传人", width=16),
        Column("committed_at", "导入时间", sort="committed_at", width=18),
    ]
    filters = [Filter.lookup("status", "状态", "status", lambda request: ImportJob.Status.choices)]
    search_fields = ["document__original_name"]
    search_placeholder = "搜索文件名"
    default_sort = "-created_at"
    export_name = "批量导入记录"

    def __init__(self, request: HttpRequest, **context: Any):
        super().__init__(request, **context)
        actions = [("下载导入模板", reverse("registry:import-template"))]
        if policies.can_import(request.user):
            actions.append(("上传名单", reverse("registry:import-upload")))
        self.actions = actions

    def queryset(self):
        return selectors.import_list_for_user(self.request.user)


@login_required
def import_list(request: HttpRequest) -> HttpResponse | FileResponse:
    _require_imports(request.user)
    return ImportListing(request).response()


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    _require_imports(request.user)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return _xlsx_response(imports.build_template(request.user), f"好品山东存量品牌导入模板-{stamp}.xlsx")


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    if not policies.can_import(request.user):
        raise PermissionDeniedError("您无权批量导入：只读成员不能上传名单。")
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = ValidationFailed("请选择要上传的 Excel 文件。", details={"file": "请选择要上传的文件。"})
        else:
            try:
                job = imports.import_validate(
                    actor=request.user, upload=upload, name=upload.name or "名单.xlsx"
                )
            except ValidationFailed as exc:
                error = exc
            else:
                if job.status == ImportJob.Status.VALID:
                    messages.success(request, "校验通过，请核对下方的结果后确认导入。")
                else:
                    messages.error(request, imports.import_error_summary(job) + "未写入任何数据。")
                return redirect(job)
    return render(
        request,
        "registry/import_upload.html",
        {"error": error, "max_mb": settings.MAX_IMPORT_MB, "max_rows": imports.MAX_ROWS},
        status=422 if error else 200,
    )


@login_required
def import_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    job = _visible_job(request, uuid)
    if request.GET.get("export") == "xlsx":
        stem = job.document.original_name.rsplit(".", 1)[0]
        return _xlsx_response(imports.errors_workbook(job), f"{stem}-校验结果.xlsx")
    summary = job.summary or {}
    page = Paginator(job.errors, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    warnings = summary.get("warnings", [])
    return render(
        request,
        "registry/import_detail.html",
        {
            "job": job,
            "summary": summary,
            "page": page,
            "stored_errors": len(job.errors),
            "warnings": warnings[:WARNINGS_SHOWN],
            "warnings_hidden": summary.get("warning_count", 0) - min(len(warnings), WARNINGS_SHOWN),
            "can_commit": job.status == ImportJob.Status.VALID and policies.can_import(request.user),
            "can_upload": policies.can_import(request.user),
        },
    )


@login_required
@require_POST
def import_commit(request: HttpRequest, uuid: Any) -> HttpResponse:
    job = _visible_job(request, uuid)
    try:
        job = imports.import_commit(actor=request.user, job=job)
    except (ConflictError, ValidationFailed) as exc:
        messages.error(request, exc.message)
    else:
        enterprises, brands = job.summary["enterprises"], job.summary["brands"]
        messages.success(
            request,
            f"导入完成：新增企业 {enterprises['new']} 家、更新 {enterprises['updated']} 家；"
            f"新增品牌 {brands['new']} 个、更新 {brands['updated']} 个。",
        )
    return redirect(job)


# Registered by RegistryConfig.ready (the navigation entry and the to-do item).
NAV_ITEMS = [NavItem("品牌登记", "批量导入", "registry:import-list", may_see_imports, order=40)]


def import_todo(user: Any) -> list[TodoItem]:
    """Validated lists of the user's organisation that nobody has committed yet."""
    if not policies.can_import(user):
        return []
    pending = policies.imports_for_user(user).filter(status=ImportJob.Status.VALID).count()
    return [
        TodoItem("待确认导入的名单", pending, reverse("registry:import-list") + "?status=valid", "校验已通过")
    ]
