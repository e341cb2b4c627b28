"""Workspace home (to-do list, figures) and the audit trail pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.db.models import CharField, Model, Q, QuerySet
from django.db.models.functions import Cast
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from haopin.core import audit, selectors, workspace
from haopin.core.audit import declared_actions
from haopin.core.errors import NotFoundError, PermissionDeniedError
from haopin.core.listing import Cell, Column, Filter, Listing, Row, display
from haopin.core.models import AuditEvent, AuditHead
from haopin.core.policies import ScopeKind, get_visible, scope_of

# Request ids the platform makes (uuid4 hex, with or without dashes). Only such a term is
# compared with request_id, which has no index: anything else would scan the trail.
_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _greeting() -> str:
    hour = timezone.localtime().hour
    if hour < 11:
        return "上午好"
    if hour < 13:
        return "中午好"
    if hour < 18:
        return "下午好"
    return "晚上好"


def _role_summary(user: Any, scope: Any) -> tuple[str, str]:
    """(who the user acts for, what the workspace is for them) in one line each."""
    membership = getattr(user, "membership", None)
    org = membership.organisation if membership else None
    if user.is_superuser:
        return "平台管理员", "您可以查看全部数据，并在“平台管理”中维护账号和基础数据。"
    if membership is None or org is None:
        if hasattr(user, "expert_profile"):
            return "评审专家", "评审任务分配给您后会出现在待办事项中。"
        return "", ""
    label = f"{org.name} · {membership.get_role_display()}"
    if scope.kind == ScopeKind.ALL:
        return label, "全省品牌工作的概况、待审核事项和审计日志都在这里。"
    if scope.kind == ScopeKind.REGION:
        return label, f"您负责{org.region.full_name if org.region_id else '本辖区'}的企业注册审核和品牌工作。"
    if scope.kind == ScopeKind.DEPARTMENT:
        return label, "您可以查看和推荐本部门主管类别、主管品牌来源的品牌。"
    if scope.kind == ScopeKind.ORGANISATION:
        return label, "在这里登记本单位的品牌和产品、申报“好品山东”、管理证书。"
    return label, ""


@login_required
def home(request: HttpRequest) -> HttpResponse:
    from haopin.accounts import selectors as account_selectors

    user = request.user
    scope = scope_of(user)
    pending_notice = ""
    membership = getattr(user, "membership", None)
    expert = account_selectors.expert_profile_of(user)
    if membership is not None and membership.organisation.status == "pending":
        pending_notice = "您的单位注册正在等待所在地市场监管部门审核，审核通过后即可使用全部功能。"
    elif membership is not None and membership.organisation.status == "rejected":
        pending_notice = f"您的单位注册未通过审核：{membership.organisation.review_note}"
    elif membership is not None and not membership.active:
        pending_notice = "您在本单位的账号已被停用，请联系本单位管理员。"
    elif scope.kind == ScopeKind.NONE and expert is None and not user.is_superuser:
        pending_notice = "您的账号尚未分配单位或已停用，请联系平台管理员。"
    organisation = membership.organisation if membership else None
    reviewing_bureau = None
    if organisation is not None and organisation.status in {"pending", "rejected"}:
        reviewing_bureau = account_selectors.city_bureau_for(organisation.region)
    acting_for, purpose = _role_summary(user, scope)
    return render(
        request,
        "core/home.html",
        {
            "greeting": _greeting(),
            "acting_for": acting_for,
            "purpose": purpose,
            "todo": workspace.todo_list(user),
            "pending_notice": pending_notice,
            "stats": workspace.stats(user),
            "expert": expert,
            "organisation": organisation,
            "reviewing_bureau": reviewing_bureau,
            "today": timezone.localdate(),
        },
    )


# --- the audit trail -------------------------------------------------------------------------


def target_type_choices(request: HttpRequest | None = None) -> list[tuple[str, str]]:
    """Every model of the platform's apps, as (``app.model``, Chinese name); no database query."""
    choices = []
    for model in apps.get_models():
        if model.__module__.startswith("haopin.") and model is not AuditEvent:
            choices.append((model._meta.label_lower, str(model._meta.verbose_name)))
    return sorted(choices, key=lambda c: c[0])


def _target_names() -> dict[str, str]:
    return dict(target_type_choices())


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class AuditListing(Listing):
    title = "审计日志"
    template = "core/audit_log.html"
    columns = [
        Column("seq", "序号", sort="seq", link=True, width=10),
        # Events are appended in time order, so time order is chain order: sort by the unique
        # sequence number (its index), not by the timestamp.
        Column("created_at", "时间", sort="seq", width=20),
        Column("action", "操作", value=lambda e: declared_actions().get(e.action, e.action), width=20),
        Column("actor_label", "操作人", width=24),
        Column("target_label", "对象", width=30),
        Column("target_type", "对象类型", value=lambda e: _target_names().get(e.target_type, e.target_type)),
        Column("client_ip", "客户端地址", width=16),
        Column("request_id", "请求编号", width=34),
    ]
    filters = [
        Filter.lookup("action", "操作", "action", lambda request: list(declared_actions().items())),
        Filter.lookup("target_type", "对象类型", "target_type", target_type_choices),
    ]
    search_fields = ["target_label", "target_id"]
    # The search box finds events about the records of these kinds whose names match (through
    # the search index, then the (target_type, target_id, seq) index), and events whose target
    # id or request id is exactly what was typed; it never scans the whole trail.
    search_kinds: tuple[str, ...] = (
        "registry.enterprise",
        "registry.brand",
        "registry.product",
        "accounts.organisation",
        "accounts.expertprofile",
    )
    search_placeholder = "对象名称、拼音、对象标识或请求编号"
    default_sort = "-seq"
    export_name = "审计日志"

    def queryset(self) -> QuerySet[AuditEvent]:
        return selectors.audit_events_for_user(self.request.user)

    def count_hint(self) -> int | None:
        """The unfiltered trail's length is the chain head's sequence number."""
        if any(
            self.request.GET.get(name) for name in ("action", "target_type", "q", "actor", "since", "until")
        ):
            return None
        head = AuditHead.objects.filter(pk=1).first()
        return head.seq if head is not None else 0

    def search(self, qs: QuerySet[AuditEvent], term: str) -> QuerySet[AuditEvent]:
        if not self.search_kinds:
            return super().search(qs, term)
        from haopin.search.query import ids_for_filter

        q = Q()
        if len(term) <= 64 and not any(ch.isspace() for ch in term):
            q |= Q(target_type__in=[t for t, _ in target_type_choices()], target_id=term)
        if _REQUEST_ID.match(term):
            q |= Q(request_id=term)
        for kind in self.search_kinds:
            found = ids_for_filter(kind, term)
            if isinstance(found, list):  # literal ids (PostgreSQL, few matches)
                q |= Q(target_type=kind, target_id__in=[str(pk) for pk in found])
            else:
                ids = found.annotate(text=Cast("object_id", CharField())).values("text")
                q |= Q(target_type=kind, target_id__in=ids)
        return qs.filter(q)

    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        return _parse_date(self.request.GET.get("since", "")), _parse_date(self.request.GET.get("until", ""))

    def filtered(self) -> QuerySet[AuditEvent]:
        qs = super().filtered()
        actor = self.request.GET.get("actor", "").strip()[:150]
        if actor:
            qs = qs.filter(actor_label__icontains=actor)
        since, until = self.date_range()
        # Whole local days, as the user means them; compared on the indexed timestamp.
        if since:
            qs = qs.filter(created_at__gte=_local_midnight(since))
        if until:
            qs = qs.filter(created_at__lt=_local_midnight(until + dt.timedelta(days=1)))
        return qs

    def row(self, obj: AuditEvent) -> Row:
        cells = []
        for column in self.columns:
            url = ""
            if column.key == "seq":
                url = reverse("workspace:audit-event", args=[obj.seq])
            elif column.key == "target_label" and obj.target_type in LINKABLE:
                url = reverse("workspace:audit-target", args=[obj.seq])
            cells.append(Cell(display(column.get(obj)), url))
        return Row(obj, cells)


def _require_audit_access(user: Any) -> None:
    if scope_of(user).kind != ScopeKind.ALL:
        raise PermissionDeniedError("审计日志仅对省质量强省办和平台管理员开放。")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse | FileResponse:
    _require_audit_access(request.user)
    listing = AuditListing(request)
    since, until = listing.date_range()
    listing.extra_context.update(
        {
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
            "actor": request.GET.get("actor", ""),
        }
    )
    return listing.response()


# How to open the object an event is about. Most targets have their own page; a membership or
# a user account is shown on its organisation's page (or the expert's), reference rows in the
# admin site. Targets not listed (tokens, import jobs' internals) have no page to open.
def _membership_url(obj: Any, user: Any) -> str:
    return obj.organisation.get_absolute_url()


def _user_url(obj: Any, user: Any) -> str:
    membership = getattr(obj, "membership", None)
    if membership is not None:
        return membership.organisation.get_absolute_url()
    profile = getattr(obj, "expert_profile", None)
    if profile is not None:
        return profile.get_absolute_url()
    if user.is_superuser:
        return reverse("admin:accounts_user_change", args=[obj.pk])
    return ""


def _admin_url(obj: Any, user: Any) -> str:
    if not user.is_superuser:
        return ""
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _own_url(obj: Any, user: Any) -> str:
    try:
        return obj.get_absolute_url()
    except NoReverseMatch:  # the page belongs to a module not installed here
        return ""


LINKABLE: dict[str, Any] = {
    "accounts.membership": _membership_url,
    "accounts.user": _user_url,
    "core.region": _admin_url,
    "core.category": _admin_url,
    "core.brandtype": _admin_url,
    "core.sourceprogramme": _admin_url,
    "core.tier": _admin_url,
    "core.industrycode": _admin_url,
}


def register_linkable(target_type: str) -> None:
    """Targets whose model has ``get_absolute_url`` open that page (the default for apps' models)."""
    LINKABLE.setdefault(target_type, _own_url)


def _link_models() -> None:
    for model in apps.get_models():
        if model.__module__.startswith("haopin.") and hasattr(model, "get_absolute_url"):
            register_linkable(model._meta.label_lower)


_link_models()


def _event(user: Any, seq: int) -> AuditEvent:
    _require_audit_access(user)
    return cast(AuditEvent, get_visible(selectors.audit_events_for_user(user), seq=seq))


def _target_of(event: AuditEvent) -> Model | None:
    try:
        model = apps.get_model(event.target_type)
    except (LookupError, ValueError):
        return None
    return model._default_manager.filter(pk=event.target_id).first()


def _target_url(event: AuditEvent, target: Model | None, user: Any) -> str:
    resolver = LINKABLE.get(event.target_type)
    return resolver(target, user) if resolver is not None and target is not None else ""


@login_required
def audit_event(request: HttpRequest, seq: int) -> HttpResponse:
    event = _event(request.user, seq)
    target = _target_of(event)
    return render(
        request,
        "core/audit_event.html",
        {
            "event": event,
            "target": target,
            "target_url": _target_url(event, target, request.user),
            "target_name": _target_names().get(event.target_type, event.target_type),
            "values": audit.value_rows(event),
            "raw_old": event.old if event.old is not None and not isinstance(event.old, dict) else None,
            "raw_new": event.new if event.new is not None and not isinstance(event.new, dict) else None,
            "has_previous": seq > 1,
            "has_next": AuditEvent.objects.filter(seq=seq + 1).exists(),
        },
    )


@login_required
def audit_target(request: HttpRequest, seq: int) -> HttpResponse:
    """Open the object an event is about, or say plainly why it cannot be opened."""
    event = _event(request.user, seq)
    url = _target_url(event, _target_of(event), request.user)
    if not url:
        raise NotFoundError(f"“{event.target_label or event.target_id}”已不存在，或没有可查看的页面。")
    return redirect(url)
