"""``manage.py tick``: closes ended notices, expires certificates, sends the reminders before
expiry and before correction deadlines — each once, however often it runs."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from haopin.certificates import services as certificate_services
from haopin.certificates.models import Certificate, CertificateEvent
from haopin.certificates.tests.factories import SHANGHAI, application, at, batch, ensure_calendar
from haopin.core.models import AuditEvent
from haopin.evaluation import notices
from haopin.evaluation.models import Application, Batch, PublicNotice
from haopin.notifications.models import Notification

A = Application.Status
C = Certificate.Status


@pytest.fixture
def world(province):
    """On Monday 13 October 2025: a notice that ended on Saturday 11 October, a certificate whose
    last day was yesterday, one 88 days from expiry, and an application due for correction in
    two days."""
    ensure_calendar()
    with time_machine.travel(at(2025, 9, 26), tick=False):
        current = batch(year=2025, sequence=3)
        application(province, current, who="alice")
        notice = notices.notice_open(actor=province.office, batch=current)
        old = batch(
            year=2022,
            sequence=1,
            status=Batch.Status.PUBLISHED,
            published_at=dt.datetime(2022, 10, 12, 9, tzinfo=SHANGHAI),
        )
        application(province, old, who="bob", status=A.PUBLISHED)
        [expiring] = certificate_services.certificates_issue_for_batch(actor=province.office, batch=old)
        later = batch(
            year=2023,
            sequence=1,
            status=Batch.Status.PUBLISHED,
            published_at=dt.datetime(2023, 1, 10, 9, tzinfo=SHANGHAI),
        )
        application(province, later, who="alice", status=A.PUBLISHED)
        [reminded] = certificate_services.certificates_issue_for_batch(actor=province.office, batch=later)
        returned = application(
            province,
            batch(year=2025, sequence=4, status=Batch.Status.REVIEWING),
            who="bob",
            status=A.RETURNED,
        )
        Application.objects.filter(pk=returned.pk).update(return_deadline=dt.date(2025, 10, 15))
    assert (expiring.valid_until, reminded.valid_until) == (dt.date(2025, 10, 11), dt.date(2026, 1, 9))
    return notice, expiring, reminded, returned


def tick() -> str:
    out = io.StringIO()
    call_command("tick", stdout=out)
    return out.getvalue()


def state() -> tuple:
    return (
        AuditEvent.objects.count(),
        Notification.objects.count(),
        CertificateEvent.objects.count(),
        list(Certificate.objects.order_by("pk").values_list("status", "reminded_at")),
        list(PublicNotice.objects.values_list("status", flat=True)),
    )


def test_one_tick_does_everything_due_and_a_second_changes_nothing(province, world):
    notice, expiring, reminded, returned = world
    with time_machine.travel(at(2025, 10, 13, 9), tick=False):
        output = tick()
        assert "tick 2025-10-13" in output
        assert f"公示结束 1 项：{notice.title}" in output
        assert f"证书到期 1 张：{expiring.number}" in output
        assert f"到期提醒 1 张：{reminded.number}（90天）" in output
        assert f"整改期限提醒 1 件：{returned.number}" in output

        notice.refresh_from_db()
        expiring.refresh_from_db()
        reminded.refresh_from_db()
        assert notice.status == PublicNotice.Status.CLOSED
        assert (expiring.status, expiring.status_reason) == (C.EXPIRED, "有效期届满")
        assert reminded.reminded_at == dt.date(2025, 10, 13)
        event = AuditEvent.objects.get(action="certificates.certificate.expired")
        assert event.actor_id is None and event.client_ip == "manage.py tick"
        assert AuditEvent.objects.get(action="evaluation.notice.closed").client_ip == "manage.py tick"
        assert Notification.objects.filter(user=province.bob, kind="certificates.expired").count() == 1
        assert Notification.objects.filter(user=province.alice, kind="certificates.expiring").count() == 1
        assert (
            Notification.objects.filter(user=province.bob, kind=notices.DEADLINE_REMINDER_KIND).count() == 1
        )

        before = state()
        output = tick()
        assert state() == before
        assert (
            "公示结束 0 项\n" in output
            and "到期提醒 0 张\n" in output
            and output.rstrip().endswith("整改期限提醒 0 件")
        )


def test_reminders_come_90_and_30_days_before_expiry_once_each(province, world):
    _, _, reminded, _ = world
    with time_machine.travel(at(2025, 10, 13), tick=False) as clock:
        tick()
        clock.move_to(at(2025, 12, 9))  # 31 days left: the 90-day reminder was sent already
        assert "到期提醒 0 张" in tick()
        clock.move_to(at(2025, 12, 10))  # 30 days left
        assert f"到期提醒 1 张：{reminded.number}（30天）" in tick()
        assert "到期提醒 0 张" in tick()
        clock.move_to(at(2026, 1, 9, 23))  # the last day: still valid, nothing more to say
        assert "到期提醒 0 张" in tick() and "证书到期 0 张" in tick()
        clock.move_to(at(2026, 1, 10))
        assert f"证书到期 1 张：{reminded.number}" in tick()
    notes = Notification.objects.filter(user=province.alice, kind="certificates.expiring").order_by("pk")
    assert [n.title.split("将于")[1] for n in notes] == ["2026年1月9日到期", "2026年1月9日到期"]
    assert "还有88天" in notes[0].body and "还有30天" in notes[1].body
    stages = AuditEvent.objects.filter(action="certificates.certificate.reminded").order_by("seq")
    assert [e.new["stage"] for e in stages] == [90, 30]


def test_a_late_first_run_sends_only_the_nearer_reminder(province, world):
    _, _, reminded, _ = world
    with time_machine.travel(at(2025, 12, 25), tick=False):  # 15 days left, never reminded
        sent = certificate_services.certificates_remind()
        assert [(c.number, stage) for c, stage in sent] == [(reminded.number, 30)]
        assert certificate_services.certificates_remind() == []


def test_suspended_certificates_expire_too_and_are_not_reminded(province, world):
    _, _, reminded, _ = world
    with time_machine.travel(at(2025, 10, 1), tick=False) as clock:
        certificate_services.certificate_suspend(actor=province.office, certificate=reminded, reason="整改")
        clock.move_to(at(2025, 10, 20))
        assert certificate_services.certificates_remind() == []
        clock.move_to(at(2026, 1, 10))
        expired = certificate_services.certificates_expire()
    assert reminded in expired
    history = list(
        CertificateEvent.objects.filter(certificate=reminded).values_list("from_status", "to_status")
    )
    assert history[-1] == (C.SUSPENDED, C.EXPIRED)


def test_a_deadline_reminder_is_sent_again_only_for_a_new_deadline(province, world):
    _, _, _, returned = world
    with time_machine.travel(at(2025, 10, 11), tick=False) as clock:  # four days before
        assert notices.return_deadline_reminders_send() == []
        clock.move_to(at(2025, 10, 12))
        assert notices.return_deadline_reminders_send() == [returned]
        assert notices.return_deadline_reminders_send() == []
        Application.objects.filter(pk=returned.pk).update(return_deadline=dt.date(2025, 10, 14))
        assert notices.return_deadline_reminders_send() == [returned]
        clock.move_to(at(2025, 10, 16))  # past the deadline: no more reminders
        Application.objects.filter(pk=returned.pk).update(return_deadline=dt.date(2025, 10, 15))
        assert notices.return_deadline_reminders_send() == []
    titles = list(
        Notification.objects.filter(user=province.bob, kind=notices.DEADLINE_REMINDER_KIND)
        .order_by("pk")
        .values_list("title", flat=True)
    )
    assert len(titles) == 2 and "2025年10月15日" in titles[0] and "2025年10月14日" in titles[1]
    assert Notification.objects.filter(kind=notices.DEADLINE_REMINDER_KIND, user=province.alice).count() == 0


def test_the_help_says_how_often_to_run_it():
    from haopin.core.management.commands.tick import Command

    assert "every 10 minutes" in Command.help and "systemd timer" in Command.help
