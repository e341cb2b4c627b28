"""Workspace home (to-do list) and the audit trail pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from haopin.core import selectors, workspace
from haopin.core.audit import declared_actions
from haopin.core.errors import PermissionDeniedError
from haopin.core.listing import Column, Filter, Listing
from haopin.core.policies import ScopeKind, scope_of


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    pending_notice = ""
    membership = getattr(request.user, "membership", None)
    if membership is not None and membership.organisation.status == "pending":
        pending_notice = "您的单位注册正在等待所在地市场监管部门审核，审核通过后即可使用全部功能。"
    elif membership is not None and membership.organisation.status == "rejected":
        pending_notice = f"您的单位注册未通过审核：{membership.organisation.review_note}"
    elif scope.kind == ScopeKind.NONE and not hasattr(request.user, "expert_profile"):
        pending_notice = "您的账号尚未分配单位或已停用，请联系平台管理员。"
    return render(
        request,
        "core/home.html",
        {
            "todo": workspace.todo_list(request.user),
            "pending_notice": pending_notice,
            "stats": workspace.stats(request.user),
        },
    )


class AuditListing(Listing):
    title = "审计日志"
    columns = [
        Column("seq", "序号", sort="seq", width=10),
        Column("created_at", "时间", sort="created_at", width=20),
        Column("action", "操作", value=lambda e: f"{declared_actions().get(e.action, e.action)}", width=20),
        Column("actor_label", "操作人", width=20),
        Column("target_label", "对象", width=30),
        Column("target_type", "对象类型", width=18),
        Column("client_ip", "客户端地址", width=16),
        Column("request_id", "请求编号", width=34),
    ]
    filters = [
        Filter.lookup("action", "操作", "action", lambda request: list(declared_actions().items())),
    ]
    search_fields = ["target_label", "actor_label"]
    search_placeholder = "搜索对象或操作人"
    default_sort = "-seq"
    export_name = "审计日志"

    def queryset(self):
        return selectors.audit_events_for_user(self.request.user)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if scope_of(request.user).kind != ScopeKind.ALL:
        raise PermissionDeniedError("审计日志仅对省质量强省办和平台管理员开放。")
    return AuditListing(request).response()
