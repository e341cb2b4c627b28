"""Working days of the PRC calendar: weekends, public holidays and adjusted working days."""

from __future__ import annotations

import datetime as dt

import pytest

from haopin.certificates.tests.factories import ensure_calendar
from haopin.core.errors import NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent
from haopin.evaluation import calendar
from haopin.evaluation.models import CalendarDay

D = dt.date


@pytest.fixture(autouse=True)
def _calendar(db):
    ensure_calendar()


def test_the_2025_spring_festival_is_off_and_its_adjusted_sunday_and_saturday_are_on():
    assert calendar.is_working_day(D(2025, 1, 24))  # Friday before
    assert not calendar.is_working_day(D(2025, 1, 25))  # an ordinary Saturday
    assert calendar.is_working_day(D(2025, 1, 26))  # Sunday, 调休上班
    for day in (28, 29, 30, 31):
        assert not calendar.is_working_day(D(2025, 1, day))
    assert not calendar.is_working_day(D(2025, 2, 3)) and not calendar.is_working_day(D(2025, 2, 4))
    assert calendar.is_working_day(D(2025, 2, 5))
    assert calendar.is_working_day(D(2025, 2, 8))  # Saturday, 调休上班


def test_counting_across_the_spring_festival():
    # Friday → the adjusted Sunday is the next working day; Monday 27 → Wednesday 5 February.
    assert calendar.add_working_days(D(2025, 1, 24), 1) == D(2025, 1, 26)
    assert calendar.add_working_days(D(2025, 1, 27), 1) == D(2025, 2, 5)
    # A seven-working-day notice from Wednesday 22 January: 22, 23, 24, 26, 27, 5 Feb, 6 Feb.
    assert calendar.add_working_days(D(2025, 1, 22), 6) == D(2025, 2, 6)
    assert calendar.working_days_between(D(2025, 1, 22), D(2025, 2, 6)) == 7


def test_counting_across_national_day_2025():
    # From Friday 26 September: 26, Sun 28 (adjusted), 29, 30, then 9, 10 and Saturday 11 October.
    assert calendar.add_working_days(D(2025, 9, 26), 6) == D(2025, 10, 11)
    assert calendar.working_days_between(D(2025, 9, 27), D(2025, 10, 12)) == 6
    assert calendar.next_working_day(D(2025, 10, 1)) == D(2025, 10, 9)
    assert calendar.next_working_day(D(2025, 9, 28)) == D(2025, 9, 28)
    assert calendar.next_working_day(D(2025, 9, 28), include_today=False) == D(2025, 9, 29)


def test_2026_spring_festival_and_an_unmaintained_year_falls_back_to_monday_to_friday():
    assert calendar.is_working_day(D(2026, 2, 14))  # Saturday, 调休上班
    assert not calendar.is_working_day(D(2026, 2, 23))  # Monday, 正月初七
    assert calendar.add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    # 2030 has no rows: plain weekdays (Friday 4 January + 1 → Monday 7 January).
    assert calendar.add_working_days(D(2030, 1, 4), 1) == D(2030, 1, 7)
    assert calendar.add_working_days(D(2030, 1, 4), 0) == D(2030, 1, 4)
    with pytest.raises(ValueError):
        calendar.add_working_days(D(2030, 1, 4), -1)


def test_long_periods_span_several_lookups():
    # 60 working days from 2 January 2025 cross the Spring Festival; count them day by day.
    end = calendar.add_working_days(D(2025, 1, 2), 60)
    assert calendar.working_days_between(D(2025, 1, 3), end) == 60
    assert calendar.is_working_day(end)


def test_the_migration_stores_only_days_that_differ_from_monday_to_friday():
    for day in CalendarDay.objects.all():
        weekend = day.date.weekday() >= 5
        assert weekend == (day.kind == CalendarDay.Kind.WORKDAY), day
    assert CalendarDay.objects.filter(date__year=2025, kind="workday").count() == 5
    assert CalendarDay.objects.filter(date__year=2026, kind="workday").count() == 6


def test_the_office_maintains_the_calendar_with_an_audit_trail(province):
    # A made-up 2027 arrangement: Monday 4 January off, Saturday 9 January on.
    assert calendar.add_working_days(D(2027, 1, 1), 1) == D(2027, 1, 4)
    calendar.calendar_day_set(actor=province.office, date=D(2027, 1, 4), kind="holiday", name="元旦")
    calendar.calendar_day_set(actor=province.office, date=D(2027, 1, 9), kind="workday", name="元旦调休上班")
    assert calendar.add_working_days(D(2027, 1, 1), 1) == D(2027, 1, 5)
    assert calendar.add_working_days(D(2027, 1, 8), 1) == D(2027, 1, 9)

    def events():
        return list(AuditEvent.objects.filter(action="evaluation.calendar.changed").order_by("seq"))

    assert [e.new["date"] for e in events()] == ["2027-01-04", "2027-01-09"]
    # Setting the same values again records nothing; renaming does.
    calendar.calendar_day_set(actor=province.office, date=D(2027, 1, 4), kind="holiday", name="元旦")
    assert len(events()) == 2
    calendar.calendar_day_set(actor=province.office, date=D(2027, 1, 4), kind="holiday", name="元旦假期")
    assert len(events()) == 3 and events()[-1].old["name"] == "元旦"
    calendar.calendar_day_remove(actor=province.office, date=D(2027, 1, 9))
    assert events()[-1].new is None and events()[-1].old["kind"] == "workday"
    assert not calendar.is_working_day(D(2027, 1, 9))
    with pytest.raises(NotFoundError):
        calendar.calendar_day_remove(actor=province.office, date=D(2027, 1, 9))


def test_mistyped_days_are_refused_with_a_reason(province):
    with pytest.raises(ValidationFailed, match="周六，本就不是工作日") as error:
        calendar.calendar_day_set(actor=province.office, date=D(2027, 1, 2), kind="holiday", name="元旦")
    assert "date" in error.value.details
    with pytest.raises(ValidationFailed, match="调休上班日应为周六或周日"):
        calendar.calendar_day_set(actor=province.office, date=D(2027, 1, 5), kind="workday", name="x")
    with pytest.raises(ValidationFailed):
        calendar.calendar_day_set(actor=province.office, date=D(2027, 1, 5), kind="holiday", name="  ")
    with pytest.raises(ValidationFailed):
        calendar.calendar_day_set(actor=province.office, date=D(2027, 1, 5), kind="vacation", name="x")
    assert not CalendarDay.objects.filter(date__year=2027).exists()


@pytest.mark.parametrize("who", ["office_viewer", "city_jinan", "dept_agri", "alice", "expert", "admin"])
def test_only_writing_members_of_the_office_change_the_calendar(province, who):
    with pytest.raises(PermissionDeniedError):
        calendar.calendar_day_set(
            actor=getattr(province, who), date=D(2027, 1, 4), kind="holiday", name="元旦"
        )
    with pytest.raises(PermissionDeniedError):
        calendar.calendar_day_remove(actor=getattr(province, who), date=D(2025, 1, 1))
    assert not CalendarDay.objects.filter(date=D(2027, 1, 4)).exists()
    assert CalendarDay.objects.filter(date=D(2025, 1, 1)).exists()
    assert not AuditEvent.objects.filter(action="evaluation.calendar.changed").exists()
