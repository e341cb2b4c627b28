"""Working days of the PRC calendar, for periods the programme counts in working days.

A day is a working day when it is Monday–Friday, unless a ``CalendarDay`` row says otherwise:
a public holiday on a weekday is not a working day, an adjusted working day (调休上班) on a
Saturday or Sunday is one. The rows come from the State Council's annual notice (migration
``0002_prc_calendar`` holds 2025 and 2026); the office maintains later years with
``calendar_day_set`` / ``calendar_day_remove`` (or in the admin).

Counting convention (the one public-notice periods use, "公示期为7个工作日"): a period of n
working days that starts on working day S ends on the (n-1)-th working day after S, so S itself
is the first day; ``add_working_days(S, n - 1)`` gives the last day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from haopin.core import audit
from haopin.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.evaluation import policies
from haopin.evaluation.models import CalendarDay

WEEKDAY_NAMES = "一二三四五六日"
# How far ahead one query looks; the longest run of non-working days in the PRC calendar is
# nine days (Spring Festival 2026), so a span of 2n + 30 days always holds n working days.
_SLACK_DAYS = 30


def _exceptions(first: dt.date, last: dt.date) -> dict[dt.date, str]:
    return dict(CalendarDay.objects.filter(date__range=(first, last)).values_list("date", "kind"))


def _working(day: dt.date, exceptions: dict[dt.date, str]) -> bool:
    kind = exceptions.get(day)
    if kind == CalendarDay.Kind.HOLIDAY:
        return False
    if kind == CalendarDay.Kind.WORKDAY:
        return True
    return day.weekday() < 5


def is_working_day(day: dt.date) -> bool:
    return _working(day, _exceptions(day, day))


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` (``start`` itself is not counted; n = 0 → start)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day, remaining = start, n
    while remaining:
        span = 2 * remaining + _SLACK_DAYS
        exceptions = _exceptions(day + dt.timedelta(days=1), day + dt.timedelta(days=span))
        for _ in range(span):
            day += dt.timedelta(days=1)
            if _working(day, exceptions):
                remaining -= 1
                if not remaining:
                    break
    return day


def next_working_day(day: dt.date, *, include_today: bool = True) -> dt.date:
    """``day`` itself when it is a working day (and ``include_today``), else the next one."""
    if include_today and is_working_day(day):
        return day
    return add_working_days(day, 1)


def working_days_between(first: dt.date, last: dt.date) -> int:
    """Working days in the closed range [first, last] (0 when last < first)."""
    if last < first:
        return 0
    exceptions = _exceptions(first, last)
    count, day = 0, first
    while day <= last:
        count += _working(day, exceptions)
        day += dt.timedelta(days=1)
    return count


# --- maintenance by the office ---------------------------------------------------------------


def _require_office(actor: Any) -> None:
    if not policies.is_office(actor):
        raise PermissionDeniedError("节假日安排由省质量强省办维护。")


def weekday_label(day: dt.date) -> str:
    return f"周{WEEKDAY_NAMES[day.weekday()]}"


@transaction.atomic
def calendar_day_set(*, actor: Any, date: dt.date, kind: str, name: str) -> CalendarDay:
    """Record (or change) one day of the State Council's arrangement for a year.

    Only days that differ from Monday–Friday are stored: a holiday must fall on a weekday and an
    adjusted working day on a weekend, which catches a mistyped date at once.
    """
    _require_office(actor)
    name = (name or "").strip()
    if kind not in CalendarDay.Kind.values:
        raise ValidationFailed("请选择类型：法定节假日或调休上班。", details={"kind": "类型不正确。"})
    if not name:
        raise ValidationFailed("请填写名称，如“春节”。", details={"name": "请填写名称。"})
    weekend = date.weekday() >= 5
    if kind == CalendarDay.Kind.HOLIDAY and weekend:
        raise ValidationFailed(
            f"{date:%Y-%m-%d}是{weekday_label(date)}，本就不是工作日，无需登记为节假日。",
            details={"date": "周末无需登记为节假日。"},
        )
    if kind == CalendarDay.Kind.WORKDAY and not weekend:
        raise ValidationFailed(
            f"{date:%Y-%m-%d}是{weekday_label(date)}，本就是工作日，调休上班日应为周六或周日。",
            details={"date": "调休上班日应为周六或周日。"},
        )
    day = CalendarDay.objects.select_for_update().filter(date=date).first()
    old = audit.snapshot(day, ["date", "kind", "name"]) if day else None
    if day is None:
        day = CalendarDay(date=date)
    day.kind, day.name = kind, name[:40]
    day.save()
    new = audit.snapshot(day, ["date", "kind", "name"])
    if old != new:
        audit.record("evaluation.calendar.changed", target=day, actor=actor, old=old, new=new)
    return day


@transaction.atomic
def calendar_day_remove(*, actor: Any, date: dt.date) -> None:
    _require_office(actor)
    day = CalendarDay.objects.select_for_update().filter(date=date).first()
    if day is None:
        raise NotFoundError("该日期没有特别安排。")
    old = audit.snapshot(day, ["date", "kind", "name"])
    target = (day._meta.label_lower, str(day.pk), str(day))
    day.delete()
    audit.record("evaluation.calendar.changed", target=target, actor=actor, old=old, new=None)
