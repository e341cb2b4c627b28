"""The office's page of public holidays and adjusted working days."""

import datetime as dt

import pytest

from haopin.core.models import AuditEvent
from haopin.evaluation import calendar
from haopin.evaluation.models import CalendarDay

pytestmark = pytest.mark.django_db
URL = "/workspace/evaluation/calendar/"


def test_the_office_sees_the_year_with_its_counts(province, as_user):
    page = as_user(province.office).get(URL + "?year=2026")
    html = page.content.decode()
    assert page.status_code == 200
    assert "春节" in html and "2026年" in html and "周四" in html  # 1 January 2026
    # 2026 from migration 0002: the year's working days as calendar counts them.
    assert (
        f"全年工作日 {calendar.working_days_between(dt.date(2026, 1, 1), dt.date(2026, 12, 31))} 天" in html
    )
    assert "登记或修改一天" in html


def test_the_office_records_a_day_and_notice_periods_follow_it(province, as_user):
    client = as_user(province.office)
    day = dt.date(2027, 2, 8)  # a Monday
    assert calendar.is_working_day(day)
    response = client.post(URL, {"date": "2027-02-08", "kind": "holiday", "name": "春节"})
    assert response.status_code == 302 and response["Location"].endswith("year=2027")
    assert not calendar.is_working_day(day)
    assert AuditEvent.objects.filter(
        action="evaluation.calendar.changed", target_label__contains="春节"
    ).exists()
    response = client.post(f"{URL}2027-02-08/remove/")
    assert response.status_code == 302
    assert calendar.is_working_day(day)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "2027-02-06", "kind": "holiday", "name": "春节"}, "无需登记为节假日"),  # a Saturday
        ({"date": "2027-02-08", "kind": "workday", "name": "春节"}, "调休上班日应为周六或周日"),
        ({"date": "2027-02-30", "kind": "holiday", "name": "春节"}, "有效的日期"),
        ({"date": "2027-02-08", "kind": "holiday", "name": ""}, "这个字段是必填项"),
    ],
)
def test_bad_days_are_refused_and_nothing_changes(province, as_user, data, message):
    before = CalendarDay.objects.count()
    response = as_user(province.office).post(URL, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert CalendarDay.objects.count() == before


def test_only_the_office_reads_and_only_its_writers_change(province, as_user):
    assert as_user(province.office_viewer).get(URL).status_code == 200
    assert "登记或修改一天" not in as_user(province.office_viewer).get(URL).content.decode()
    before = CalendarDay.objects.count()
    data = {"date": "2027-02-08", "kind": "holiday", "name": "春节"}
    assert as_user(province.office_viewer).post(URL, data).status_code == 403
    for user in (province.city_jinan, province.dept_agri, province.alice):
        assert as_user(user).get(URL).status_code == 403
        assert as_user(user).post(URL, data).status_code == 403
    some_day = CalendarDay.objects.first()
    assert as_user(province.city_jinan).post(f"{URL}{some_day.date:%Y-%m-%d}/remove/").status_code == 403
    assert CalendarDay.objects.count() == before


def test_the_workspace_stays_chinese_for_an_english_browser(province, as_user):
    # Django's own messages (here the date field's) follow the workspace's language, not the
    # browser's Accept-Language.
    client = as_user(province.office)
    data = {"date": "2027-02-30", "kind": "holiday", "name": "春节"}
    response = client.post(URL, data, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert response.status_code == 422
    assert "有效的日期" in html and "Enter a valid date" not in html
    assert response["Content-Language"] == "zh-hans"
