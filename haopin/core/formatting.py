"""Dates, numbers and sizes as Chinese users write them (2025年5月13日, 1,234.5 万元)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone


def cn_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{cn_date(local)} {local:%H:%M}"


def cn_number(value: int | float | Decimal | None, places: int = 0) -> str:
    if value is None:
        return ""
    return f"{value:,.{places}f}"


def file_size(size: int | None) -> str:
    if not size:
        return "0 B"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
