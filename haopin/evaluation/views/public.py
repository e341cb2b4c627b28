"""Public pages of the notice (公示), without an account: the list of notices, one notice with its
candidates and the objections' progress, the form to lodge an objection against a candidate
while the notice runs, and the status of an objection by its number.

Objectors' names and contact details are never shown here (``notices.objections_public`` and
``notices.objection_public_get`` carry none); the service refuses objections outside the notice
period, duplicates and floods from one address, and these pages show its messages.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from haopin.core.errors import ConflictError, DomainError, NotFoundError, ValidationFailed
from haopin.core.formatting import cn_date
from haopin.core.models import Region
from haopin.evaluation import notices, selectors
from haopin.evaluation.forms_office import ObjectionLookupForm, PublicObjectionForm
from haopin.evaluation.models import Application, Objection, PublicNotice

NOTICES_PER_PAGE = 20
A = Application.Status
# How a candidate's status reads to the public.
CANDIDATE_LABELS: dict[str, str] = {
    A.NOTICE: "公示中",
    A.REJECTED: "经核实不予入选",
    A.PUBLISHED: "已入选",
    A.WITHDRAWN: "已撤回",
}


def _notice(uuid: Any) -> PublicNotice:
    notice = notices.notices_public().filter(uuid=uuid).first()
    if notice is None:
        raise Http404
    return notice


def accepting(notice: PublicNotice) -> bool:
    """Whether objections are received today (the service decides again when one arrives)."""
    today = timezone.localdate()
    return notice.status == PublicNotice.Status.OPEN and notice.starts_on <= today <= notice.ends_on


def phase(notice: PublicNotice) -> tuple[str, str]:
    """(label, badge style) of a notice for the public."""
    today = timezone.localdate()
    if notice.status == PublicNotice.Status.OPEN and today < notice.starts_on:
        return "即将开始", "warn"
    if accepting(notice):
        return "公示中", "ok"
    return "公示结束", ""


def _candidates(notice: PublicNotice) -> list[Application]:
    return list(notices.notice_candidates(notice).select_related("enterprise__region__parent"))


def city_of(application: Application) -> str:
    region = application.enterprise.region
    return cast(Region, region.parent).name if region.level == "county" and region.parent_id else region.name


@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notices.notices_public(), NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"notice": notice, "phase": phase(notice)} for notice in page.object_list]
    return render(request, "evaluation/public_notice_list.html", {"page": page, "rows": rows})


@require_GET
def notice_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    notice = _notice(uuid)
    open_now = accepting(notice)
    rows = [
        {
            "application": a,
            "city": city_of(a),
            "label": CANDIDATE_LABELS.get(a.status, a.get_status_display()),
            "can_object": open_now and a.status == A.NOTICE,
        }
        for a in _candidates(notice)
    ]
    return render(
        request,
        "evaluation/public_notice_detail.html",
        {
            "notice": notice,
            "phase": phase(notice),
            "accepting": open_now,
            "rows": rows,
            "objections": notices.objections_public(notice),
        },
    )


def _place(form: PublicObjectionForm, error: DomainError) -> None:
    placed = False
    for key, message in (error.details or {}).items():
        name = "evidence" if key == "file" else key
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


@require_http_methods(["GET", "POST"])
def objection_new(request: HttpRequest, uuid: Any, number: str) -> HttpResponse:
    """Lodge an objection against one candidate of a notice."""
    notice = _notice(uuid)
    application = next((a for a in _candidates(notice) if a.number == number.upper()), None)
    if application is None:
        raise Http404
    form = PublicObjectionForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                objection = notices.objection_lodge(
                    application=application,
                    name=data["name"],
                    phone=data["phone"],
                    email=data["email"],
                    content=data["content"],
                    evidence=data["evidence"],
                )
            except (ValidationFailed, ConflictError, notices.RateLimited) as exc:
                _place(form, exc)
                status = exc.status
            else:
                messages.success(
                    request,
                    f"您的异议已提交，异议编号为 {objection.number}。"
                    "请妥善保存编号，凭编号可查询办理进度和结论。",
                )
                return redirect(reverse("evaluation:public-objection-status", args=[objection.number]))
    open_now = accepting(notice) and application.status == A.NOTICE
    return render(
        request,
        "evaluation/public_objection_form.html",
        {
            "notice": notice,
            "application": application,
            "city": city_of(application),
            "form": form,
            "accepting": open_now,
            "closed_reason": "" if open_now else _closed_reason(notice, application),
        },
        status=status,
    )


def _closed_reason(notice: PublicNotice, application: Application) -> str:
    today = timezone.localdate()
    if notice.starts_on > today:
        return f"公示尚未开始，{cn_date(notice.starts_on)}起受理异议。"
    if notice.status != PublicNotice.Status.OPEN or notice.ends_on < today:
        return f"公示已于{cn_date(notice.ends_on)}结束，不再受理异议。"
    return "该品牌已不在公示名单中，不再受理异议。"


@require_GET
def objection_lookup(request: HttpRequest) -> HttpResponse:
    form = ObjectionLookupForm(request.GET or None)
    status = 200
    if form.is_bound and form.is_valid():
        try:
            found = notices.objection_public_get(form.cleaned_data["number"])
        except (ValidationFailed, NotFoundError) as exc:
            form.add_error("number", exc.message)
            status = exc.status
        else:
            return redirect(reverse("evaluation:public-objection-status", args=[found.number]))
    return render(request, "evaluation/public_objection_lookup.html", {"form": form}, status=status)


@require_GET
def objection_status(request: HttpRequest, number: str) -> HttpResponse:
    try:
        found = notices.objection_public_get(number)
    except (ValidationFailed, NotFoundError) as exc:
        form = ObjectionLookupForm({"number": number})
        form.is_valid()
        form.add_error("number", exc.message)
        return render(request, "evaluation/public_objection_lookup.html", {"form": form}, status=exc.status)
    if found.number != number:
        return redirect(reverse("evaluation:public-objection-status", args=[found.number]))
    answer, answered_at = selectors.objection_public_answer(found.number)
    return render(
        request,
        "evaluation/public_objection_status.html",
        {
            "objection": found,
            "answered": found.status != Objection.Status.OPEN,
            "answer": answer,
            "answered_at": answered_at,
        },
    )


urlpatterns = [
    path("notices/", notice_list, name="public-notice-list"),
    path("notices/objections/", objection_lookup, name="public-objection-lookup"),
    path("notices/objections/<str:number>/", objection_status, name="public-objection-status"),
    path("notices/<uuid:uuid>/", notice_detail, name="public-notice-detail"),
    path("notices/<uuid:uuid>/objections/<str:number>/", objection_new, name="public-objection-new"),
]
