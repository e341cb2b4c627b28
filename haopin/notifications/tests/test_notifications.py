"""Notifications in the workspace: the user's own, unread first; marking them read; links;
and e-mail to people without an account."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from haopin.notifications import selectors, workspace_entries
from haopin.notifications.models import Notification
from haopin.notifications.services import email_person, notification_mark_read, notify

pytestmark = pytest.mark.urls("haopin.certificates.tests.urls")


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def make(user, n: int, **extra) -> list[Notification]:
    return [
        Notification.objects.create(user=user, kind="test", title=f"通知{i}", body=f"内容{i}", **extra)
        for i in range(n)
    ]


def test_unread_come_first_then_newest(province):
    old_unread, read, new_unread = make(province.alice, 3)
    notification_mark_read(user=province.alice, notification=read)
    make(province.bob, 2)
    listed = list(selectors.notifications_for_user(province.alice))
    assert listed == [new_unread, old_unread, read]
    assert selectors.unread_count(province.alice) == 2
    assert selectors.notifications_for_user(None).count() == 0


def test_the_page_lists_only_ones_own_with_a_fixed_number_of_queries(
    as_user, province, django_assert_max_num_queries
):
    make(province.bob, 3)
    make(province.alice, 5)
    client = as_user(province.alice)
    with django_assert_max_num_queries(12) as few:
        response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="card note unread"') == 5 and "5 条未读" in page
    make(province.alice, 16)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("notifications:list"))
    assert response.content.decode().count('class="card note unread"') == 20  # one full page
    assert "第 1 / 2 页" in response.content.decode()


def test_marking_one_and_all_as_read(as_user, province):
    first, second, _ = make(province.alice, 3)
    client = as_user(province.alice)
    response = client.post(reverse("notifications:read", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:list")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at and not second.read_at
    # With htmx, just the item comes back, now marked read.
    response = client.post(reverse("notifications:read", args=[second.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="note-{second.pk}"' in response.content.decode()
    fragment = response.content.decode()
    assert "已读" in fragment and "<html" not in fragment
    assert 'id="unread-badge" hx-swap-oob="true"' in fragment and "1 条未读" in fragment
    client.post(reverse("notifications:read-all"))
    assert selectors.unread_count(province.alice) == 0
    assert client.get(reverse("notifications:read-all")).status_code == 405


def test_nobody_touches_someone_elses_notifications(as_user, client, province):
    [bobs] = make(province.bob, 1)
    for url in (reverse("notifications:read", args=[bobs.pk]), reverse("notifications:open", args=[bobs.pk])):
        assert as_user(province.alice).post(url).status_code in {404, 405}
    assert as_user(province.alice).get(reverse("notifications:open", args=[bobs.pk])).status_code == 404
    as_user(province.alice).post(reverse("notifications:read-all"))
    bobs.refresh_from_db()
    assert bobs.read_at is None
    client.logout()
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_opening_a_notification_follows_its_link_within_the_site_only(as_user, province):
    [inside] = make(province.alice, 1, url="/workspace/")
    [outside] = make(province.alice, 1, url="https://evil.example.com/phish")
    client = as_user(province.alice)
    response = client.get(reverse("notifications:open", args=[inside.pk]))
    assert response.status_code == 302 and response["Location"] == "/workspace/"
    response = client.get(reverse("notifications:open", args=[outside.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:list")
    inside.refresh_from_db()
    outside.refresh_from_db()
    assert inside.read_at and outside.read_at


def test_notify_emails_after_commit(province, immediate_tasks, django_capture_on_commit_callbacks):
    province.alice.email = "alice@example.com"
    province.alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        notes = notify(users=[province.alice, province.bob, None], kind="test", title="证书已颁发", url="/x/")
    assert len(notes) == 2
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert mail.outbox[0].subject == "【好品山东】证书已颁发"


def test_email_person_writes_to_a_valid_address_only(immediate_tasks, django_capture_on_commit_callbacks, db):
    with django_capture_on_commit_callbacks(execute=True):
        assert email_person(to="objector@example.com", subject="异议已处理", body="结论：异议成立。") is True
        assert email_person(to="not an address", subject="x", body="y") is False
        assert email_person(to="", subject="x", body="y") is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["objector@example.com"] and "结论：异议成立。" in mail.outbox[0].body


def test_the_workspace_entries(province):
    make(province.alice, 2)
    [item] = workspace_entries.todo(province.alice)
    assert item.count == 2 and item.url == reverse("notifications:list")
    assert workspace_entries.NAV[0].visible(province.alice)
    assert workspace_entries.todo(None) == []
