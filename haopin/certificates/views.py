"""Certificate pages: the public verification by number (anonymous), the PDF, and the workspace
list and page of certificates with the office's status changes.

Everyone with a scope sees the certificates ``policies.certificates_for_user`` grants (the office
all, a bureau its region's, a department its categories', a holder its own; anything else is 404);
suspending, restoring, revoking and withdrawing are the office's writing members', each with a
reason, and only the moves the certificate's status allows now are offered
(``policies.available_actions``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from haopin.certificates import policies, selectors, services
from haopin.certificates.models import Certificate
from haopin.certificates.pdf import render_certificate_pdf
from haopin.certificates.workflow import CERTIFICATE_TRANSITIONS, MANUAL_ACTIONS
from haopin.core import selectors as core_selectors
from haopin.core.errors import ConflictError, NotFoundError, ValidationFailed
from haopin.core.listing import Column, Filter, Listing
from haopin.core.models import Category, Region
from haopin.core.policies import ScopeKind, deny_unless, scope_of
from haopin.core.workspace import NavItem
from haopin.evaluation.models import Batch
from haopin.notifications import links
from haopin.registry import policies as registry_policies
from haopin.registry.forms import show_error

LABELS: dict[str, str] = dict(Certificate.Status.choices)
STATUS_STYLE: dict[str, str] = {
    Certificate.Status.VALID: "ok",
    Certificate.Status.SUSPENDED: "warn",
    Certificate.Status.REVOKED: "err",
    Certificate.Status.WITHDRAWN: "err",
    Certificate.Status.EXPIRED: "err",
}


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("number", "").strip()
    if number:
        return verify(request, number)
    return render(request, "certificates/verify.html", {"query": ""})


@require_GET
def verify(request: HttpRequest, number: str) -> HttpResponse:
    """The public record of a certificate. A typo in the number (check character) gets its own
    message (400); a well-formed number that was never issued is a 404."""
    context: dict = {"query": number}
    try:
        certificate = selectors.certificate_public_get(number)
    except ValidationFailed as error:
        context["error"] = error.message
        return render(request, "certificates/verify.html", context, status=400)
    except NotFoundError as error:
        context["error"] = error.message
        return render(request, "certificates/verify.html", context, status=404)
    if certificate.number != number:
        return redirect("certificates:verify", certificate.number)
    context.update(
        certificate=certificate,
        status_style=STATUS_STYLE.get(certificate.status, ""),
        products=list(certificate.products.all()),
        history=[
            {
                "at": event.created_at,
                "source": LABELS.get(event.from_status, ""),
                "target": LABELS.get(event.to_status, event.to_status),
                "reason": event.reason,
            }
            for event in certificate.events.all()
        ],
        query=certificate.number,
    )
    return render(request, "certificates/verify.html", context)


@login_required
@require_GET
def certificate_pdf(request: HttpRequest, uuid: UUID) -> HttpResponse:
    certificate = selectors.certificate_get_for_user(request.user, uuid)
    response = HttpResponse(render_certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{certificate.number}.pdf"'
    return response


# --- the workspace ------------------------------------------------------------------------------------

HISTORY_LIMIT = 50
EXPIRING_CHOICES = [("30", "30天内到期"), ("90", "90天内到期")]


def nav_visible(user: Any) -> bool:
    return scope_of(user).kind != ScopeKind.NONE


# Menu entries, registered in CertificatesConfig.ready.
NAV = [NavItem("证书管理", "证书", "certificates:certificate-list", nav_visible, order=10)]


def _memo(request: HttpRequest, key: str, compute: Callable[[], Any]) -> Any:
    # Filter choices are asked for twice per request (to check the value, to draw the drop-down).
    cache = request.__dict__.setdefault("_certificates_memo", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _batch_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return _memo(
        request,
        "batches",
        lambda: [
            (f"{year}-{sequence}", title)
            for year, sequence, title in Batch.objects.filter(status__in=["published", "closed"]).values_list(
                "year", "sequence", "title"
            )
        ],
    )


def _in_batch(qs: QuerySet, value: str) -> QuerySet:
    year, _, sequence = value.partition("-")
    return qs.filter(batch__year=int(year), batch__sequence=int(sequence))


def _expiring(qs: QuerySet, days: str) -> QuerySet:
    today = timezone.localdate()
    return qs.filter(
        status=Certificate.Status.VALID,
        valid_until__gte=today,
        valid_until__lte=today + dt.timedelta(days=int(days)),
    )


def city_name(certificate: Certificate) -> str:
    region = certificate.enterprise.region
    if region.level == Region.Level.COUNTY and region.parent_id:
        assert region.parent is not None  # parent_id is set
        return region.parent.name
    return region.name


class CertificateListing(Listing):
    title = "证书"
    columns = [
        Column("number", "证书编号", sort="number", link=True, width=16),
        Column("brand", "品牌", sort="brand__name", value=lambda c: c.brand.name, width=20),
        Column(
            "enterprise", "持证主体", sort="enterprise__name", value=lambda c: c.enterprise.name, width=30
        ),
        Column("city", "城市", sort="enterprise__region__code", value=city_name, width=10),
        Column(
            "category", "类别", sort="brand__category__code", value=lambda c: c.brand.category.name, width=14
        ),
        Column("batch", "评价批次", sort="batch__year", value=lambda c: c.batch.title, width=28),
        Column("issued_on", "发证日期", sort="issued_on", width=14),
        Column("valid_until", "有效期至", sort="valid_until", width=14),
        Column("status", "状态", sort="status", value=lambda c: c.get_status_display(), width=8),
    ]
    filters = [
        Filter.lookup("status", "状态", "status", lambda request: Certificate.Status.choices),
        Filter("expiring", "即将到期", lambda request: EXPIRING_CHOICES, _expiring),
        Filter("batch", "评价批次", _batch_choices, _in_batch),
        Filter(
            "city",
            "城市",
            lambda request: _memo(
                request, "cities", lambda: core_selectors.region_choices(request.user, levels=("city",))
            ),
            # The region ids (an IN subquery) rather than a join: the filter stays one condition.
            lambda qs, code: qs.filter(
                enterprise__region__in=Region.objects.filter(code__startswith=code[:4])
            ),
        ),
        Filter(
            "category",
            "类别",
            lambda request: _memo(
                request,
                "categories",
                lambda: list(Category.objects.filter(level=2, active=True).values_list("code", "name")),
            ),
            lambda qs, code: qs.filter(brand__category__in=Category.objects.filter(code__startswith=code)),
        ),
    ]
    search_fields = ["number", "brand__name", "enterprise__name", "enterprise__uscc"]
    search_placeholder = "搜索证书编号、品牌、持证主体或信用代码"
    default_sort = "-issued_on"
    select_related = ["brand__category", "enterprise__region__parent", "batch"]
    export_name = "证书"

    def queryset(self) -> QuerySet[Certificate]:
        return selectors.certificates_for_user(self.request.user)


@login_required
@require_GET
def certificate_list(request: HttpRequest) -> HttpResponse | FileResponse:
    deny_unless(nav_visible(request.user), "您所在的单位没有可查看的证书。")
    return CertificateListing(request).response()


def _crumbs(certificate: Certificate, *tail: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        ("证书", reverse("certificates:certificate-list")),
        (certificate.number, certificate.get_absolute_url()),
        *tail,
    ]


@login_required
@require_GET
def certificate_detail(request: HttpRequest, uuid: UUID) -> HttpResponse:
    user = request.user
    certificate = selectors.certificate_get_for_user(user, uuid)
    actions = [
        {"action": name, "label": move.label, "style": move.style}
        for name, move in policies.available_actions(user, certificate)
    ]
    return render(
        request,
        "certificates/certificate_detail.html",
        {
            "certificate": certificate,
            "status_style": STATUS_STYLE.get(certificate.status, ""),
            "crumbs": _crumbs(certificate),
            "products": list(certificate.products.all()),
            "events": [
                {
                    "at": event.created_at,
                    "actor": event.actor,
                    "source": LABELS.get(event.from_status, ""),
                    "target": LABELS.get(event.to_status, event.to_status),
                    "reason": event.reason,
                }
                for event in selectors.certificate_events(certificate).select_related("actor")
            ],
            "actions": actions,
            "enterprise_visible": registry_policies.can(user, "view", certificate.enterprise),
            "brand_visible": registry_policies.can(user, "view", certificate.brand),
            "application_url": links.url_of(certificate.application),
            "batch_url": certificate.batch.get_absolute_url(),
            "history": list(core_selectors.history_for(certificate)[:HISTORY_LIMIT]),
            "read_only": scope_of(user).kind == ScopeKind.ALL and not policies.can_change_status(user),
        },
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=services.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"将记入证书的公开状态记录，并告知持证单位；不超过 {services.REASON_MAX} 字",
    )
    # The status the page was shown with: a change made meanwhile by someone else is reported.
    expected_status = forms.CharField(widget=forms.HiddenInput, required=False)


ACTION_HINTS = {
    "suspend": "暂停期间持证单位不得使用“好品山东”标识；整改完成后可恢复。",
    "restore": "恢复后证书重新有效，有效期不变。",
    "revoke": "撤销是对违规行为的处理，不能恢复；品牌如需重新入选须参加新的批次评价。",
    "withdraw": "注销用于持证单位申请、主体注销等情形，不能恢复。",
}


@login_required
@require_http_methods(["GET", "POST"])
def certificate_action(request: HttpRequest, uuid: UUID, action: str) -> HttpResponse:
    """Suspend, restore, revoke or withdraw a certificate with a reason (the office)."""
    if action not in MANUAL_ACTIONS:
        raise Http404
    user = request.user
    certificate = selectors.certificate_get_for_user(user, uuid)
    deny_unless(policies.can_change_status(user), "只有省质量强省办的工作人员可以变更证书状态。")
    move = CERTIFICATE_TRANSITIONS[action]
    offered = {name for name, _ in policies.available_actions(user, certificate)}
    if request.method == "GET" and action not in offered:
        blocked = move.guard(certificate) if move.guard is not None else None
        raise ConflictError(
            blocked or f"证书当前状态为“{certificate.get_status_display()}”，不能{move.label}。",
            code="illegal_transition",
        )
    form = ReasonForm(request.POST or None, initial={"expected_status": certificate.status})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.certificate_move(
                    actor=user,
                    certificate=certificate,
                    action=action,
                    reason=form.cleaned_data["reason"],
                    expected_status=form.cleaned_data["expected_status"] or None,
                )
            except (ValidationFailed, ConflictError) as exc:
                show_error(form, exc)
                status = exc.status
            else:
                messages.success(
                    request, f"证书 {certificate.number} 的状态已变更为“{certificate.get_status_display()}”。"
                )
                return redirect(certificate.get_absolute_url())
    return render(
        request,
        "certificates/certificate_action.html",
        {
            "certificate": certificate,
            "form": form,
            "action": action,
            "label": move.label,
            "style": move.style,
            "hint": ACTION_HINTS.get(action, ""),
            "crumbs": _crumbs(certificate, (move.label, "")),
        },
        status=status,
    )
