"""Background work of the notifications domain."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django_tasks import task

from haopin.notifications.models import Notification

SIGNATURE = "—— 好品山东品牌管理平台（本邮件由系统自动发送）"


@task()
def send_notification_emails(notification_ids: list[int]) -> int:
    """E-mail the given notifications once each (compare-and-set on ``emailed_at``)."""
    sent = 0
    for note in Notification.objects.select_related("user").filter(
        pk__in=notification_ids, emailed_at__isnull=True
    ):
        if not Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        ):
            continue
        link = f"\n\n{settings.PUBLIC_URL}{note.url}" if note.url else ""
        send_mail(
            subject=f"【好品山东】{note.title}",
            message=f"{note.user}，您好：\n\n{note.body or note.title}{link}\n\n{SIGNATURE}",
            from_email=None,
            recipient_list=[note.user.email],
        )
        sent += 1
    return sent


@task()
def send_plain_email(to: str, subject: str, body: str) -> int:
    """One e-mail to a person without an account (see ``services.email_person``)."""
    return send_mail(
        subject=f"【好品山东】{subject}",
        message=f"您好：\n\n{body}\n\n{SIGNATURE}",
        from_email=None,
        recipient_list=[to],
    )
