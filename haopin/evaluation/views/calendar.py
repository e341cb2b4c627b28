"""The PRC calendar of public holidays and adjusted working days (节假日安排), by year.

Public-notice periods are counted in working days (``evaluation.calendar``); the State Council
publishes each year's arrangement in the autumn before, and the office records it here. The
provincial office and platform admins read the page; only the office's writing members change it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from haopin.core.errors import ConflictError, NotFoundError, ValidationFailed
from haopin.core.policies import deny_unless
from haopin.core.workspace import NavItem
from haopin.evaluation import calendar, policies
from haopin.evaluation.models import CalendarDay
from haopin.registry.forms import show_error

NAV = [NavItem("评价管理", "节假日安排", "evaluation:calendar", policies.is_office_reader, order=90)]


class CalendarDayForm(forms.Form):
    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label="类型", choices=CalendarDay.Kind.choices)
    name = forms.CharField(label="名称", max_length=40, help_text="如“春节”“国庆节”。")


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year") or request.POST.get("year") or ""
    this_year = timezone.localdate().year
    year = int(raw) if raw.isdigit() else this_year
    return year if 2000 <= year <= this_year + 5 else this_year


def _page(
    request: HttpRequest, year: int, form: CalendarDayForm | None = None, status: int = 200
) -> HttpResponse:
    days = list(CalendarDay.objects.filter(date__year=year).order_by("date"))
    may_write = policies.is_office(request.user)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    context: dict[str, Any] = {
        "title": "节假日安排",
        "crumbs": [("节假日安排", reverse("evaluation:calendar"))],
        "year": year,
        "years": list(range(timezone.localdate().year - 2, timezone.localdate().year + 3)),
        "days": [(day, calendar.weekday_label(day.date)) for day in days],
        "holidays": sum(d.kind == CalendarDay.Kind.HOLIDAY for d in days),
        "workdays": sum(d.kind == CalendarDay.Kind.WORKDAY for d in days),
        "working_days": calendar.working_days_between(first, last),
        "may_write": may_write,
        "form": (form or CalendarDayForm(initial={"date": None})) if may_write else None,
    }
    return render(request, "evaluation/calendar.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    deny_unless(policies.is_office_reader(request.user), "节假日安排仅供省质量强省办查看和维护。")
    if request.method == "GET":
        return _page(request, _year(request))
    deny_unless(policies.is_office(request.user), "节假日安排由省质量强省办的工作人员维护。")
    form = CalendarDayForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            day = calendar.calendar_day_set(
                actor=request.user, date=data["date"], kind=data["kind"], name=data["name"]
            )
        except (ValidationFailed, ConflictError) as exc:
            show_error(form, exc)
        else:
            messages.success(
                request, f"已登记：{day.date:%Y年%-m月%-d日} {day.get_kind_display()}（{day.name}）。"
            )
            return redirect(f"{reverse('evaluation:calendar')}?year={day.date.year}")
    year = form.cleaned_data["date"].year if "date" in form.cleaned_data else _year(request)
    return _page(request, year, form, status=422)


@login_required
@require_POST
def calendar_day_remove(request: HttpRequest, date: str) -> HttpResponse:
    deny_unless(policies.is_office(request.user), "节假日安排由省质量强省办的工作人员维护。")
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise NotFoundError("日期格式不正确。") from None
    calendar.calendar_day_remove(actor=request.user, date=day)
    messages.success(request, f"已删除 {day:%Y年%-m月%-d日} 的特别安排。")
    return redirect(f"{reverse('evaluation:calendar')}?year={day.year}")


urlpatterns = [
    path("workspace/evaluation/calendar/", calendar_page, name="calendar"),
    path("workspace/evaluation/calendar/<str:date>/remove/", calendar_day_remove, name="calendar-day-remove"),
]
