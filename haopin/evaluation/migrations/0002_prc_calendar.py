"""The PRC public holidays and adjusted working days (调休) of 2025 and 2026.

Source: the State Council General Office's annual notices, as published by Xinhua and on
www.gov.cn —
- 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024年11月12日）;
- 国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）.

Only days whose status differs from Monday–Friday are stored (``CalendarDay``'s rule): the
holidays that fall on weekdays, and the weekend days that are working days. The office keeps
later years up to date in the admin (or through ``evaluation.calendar.calendar_day_set``).
"""

import datetime as dt

from django.db import migrations

# (first day, last day, name) of each holiday period as the notices state them.
HOLIDAYS = [
    ("2025-01-01", "2025-01-01", "元旦"),
    ("2025-01-28", "2025-02-04", "春节"),
    ("2025-04-04", "2025-04-06", "清明节"),
    ("2025-05-01", "2025-05-05", "劳动节"),
    ("2025-05-31", "2025-06-02", "端午节"),
    ("2025-10-01", "2025-10-08", "国庆节、中秋节"),
    ("2026-01-01", "2026-01-03", "元旦"),
    ("2026-02-15", "2026-02-23", "春节"),
    ("2026-04-04", "2026-04-06", "清明节"),
    ("2026-05-01", "2026-05-05", "劳动节"),
    ("2026-06-19", "2026-06-21", "端午节"),
    ("2026-09-25", "2026-09-27", "中秋节"),
    ("2026-10-01", "2026-10-07", "国庆节"),
]
# Weekend days that are working days ("……上班").
WORKDAYS = [
    ("2025-01-26", "春节调休上班"),
    ("2025-02-08", "春节调休上班"),
    ("2025-04-27", "劳动节调休上班"),
    ("2025-09-28", "国庆节、中秋节调休上班"),
    ("2025-10-11", "国庆节、中秋节调休上班"),
    ("2026-01-04", "元旦调休上班"),
    ("2026-02-14", "春节调休上班"),
    ("2026-02-28", "春节调休上班"),
    ("2026-05-09", "劳动节调休上班"),
    ("2026-09-20", "国庆节调休上班"),
    ("2026-10-10", "国庆节调休上班"),
]


def rows():
    """(date, kind, name) for every stored day."""
    result = []
    for first, last, name in HOLIDAYS:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            if day.weekday() < 5:
                result.append((day, "holiday", name))
            day += dt.timedelta(days=1)
    for date, name in WORKDAYS:
        day = dt.date.fromisoformat(date)
        assert day.weekday() >= 5, date
        result.append((day, "workday", name))
    return sorted(result)


def load(apps, schema_editor=None):
    CalendarDay = apps.get_model("evaluation", "CalendarDay")
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=day, kind=kind, name=name) for day, kind, name in rows() if day not in existing]
    )


def unload(apps, schema_editor):
    CalendarDay = apps.get_model("evaluation", "CalendarDay")
    CalendarDay.objects.filter(date__in=[day for day, _, _ in rows()]).delete()


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
