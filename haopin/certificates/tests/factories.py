"""Test data for the notice, objection, certificate and tick tests: a batch with applications
at a given stage, built directly (the review that leads there is tested elsewhere)."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db import transaction

from haopin.core import numbering
from haopin.evaluation.models import Application, Batch, CalendarDay
from haopin.standards.models import RuleSet

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    """An aware moment in Shandong's time zone, for time-machine."""
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def ensure_calendar() -> None:
    """The 2025/2026 calendar comes from a data migration; transactional (browser) tests empty
    every table, so put it back when it is missing."""
    if not CalendarDay.objects.exists():
        importlib.import_module("haopin.evaluation.migrations.0002_prc_calendar").load(apps)


def rule_set(province, *, category=None, brand_type=None) -> RuleSet:
    category = category or province.cat_food
    brand_type = brand_type or province.product_type
    existing = RuleSet.objects.filter(category=category, brand_type=brand_type).first()
    if existing:
        return existing
    return RuleSet.objects.create(
        category=category,
        brand_type=brand_type,
        title=f"{category.name}评价细则",
        status=RuleSet.Status.PUBLISHED,
        pass_line=Decimal("80"),
    )


def batch(*, year: int = 2025, sequence: int = 3, status: str = Batch.Status.REVIEWING, **extra) -> Batch:
    return Batch.objects.create(
        year=year,
        sequence=sequence,
        title=f"{year}年第{sequence}批“好品山东”品牌评价",
        status=status,
        apply_from=dt.date(year, 3, 1),
        apply_until=dt.date(year, 4, 30),
        **extra,
    )


def application(province, the_batch: Batch, *, who: str = "alice", status: str = Application.Status.APPROVED):
    brand = getattr(province, f"{who}_brand")
    with transaction.atomic():
        number = numbering.next_number("SQ", the_batch.year)
    app = Application.objects.create(
        number=number,
        batch=the_batch,
        enterprise=brand.owner,
        brand=brand,
        rule_set=rule_set(province, category=brand.category, brand_type=brand.brand_type),
        status=status,
        created_by=getattr(province, who),
    )
    app.products.set([getattr(province, f"{who}_product")])
    return app
