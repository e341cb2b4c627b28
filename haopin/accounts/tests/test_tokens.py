"""API tokens: created in the workspace, shown once, stored only as a digest, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from haopin.accounts import services
from haopin.accounts.models import ApiToken
from haopin.core.errors import PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent

PAGE = "/accounts/tokens/"


def bearer(client, raw):
    return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_url_names():
    assert reverse("accounts:tokens") == PAGE
    assert reverse("accounts:token-revoke", args=[7]) == "/accounts/tokens/7/revoke/"


def test_token_is_shown_once_and_stored_only_as_its_digest(as_user, province):
    client = as_user(province.alice)
    response = client.post(PAGE, {"name": "数据同步", "days": "30"})
    assert response.status_code == 200
    raw = response.context["created"]
    assert raw.startswith("hp_") and raw in response.content.decode()

    token = ApiToken.objects.get(user=province.alice)
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.fields]).get()]
    assert not any(raw in value for value in stored)
    secret = raw.split("_", 2)[2]
    assert not any(secret in value for value in stored)
    assert timezone.now() + dt.timedelta(days=29) < token.expires_at <= timezone.now() + dt.timedelta(days=30)

    event = AuditEvent.objects.get(action="accounts.token.created")
    assert event.actor_id == province.alice.pk and event.new["name"] == "数据同步"
    assert secret not in str(event.new)

    # Shown once: the next visit lists it without the secret.
    again = client.get(PAGE).content.decode()
    assert secret not in again and f"hp_{token.prefix}_…" in again


def test_token_authenticates_as_its_user(client, province):
    _, raw = services.token_create(actor=province.alice, name="对接")
    response = bearer(client, raw)
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


@pytest.mark.parametrize(
    "mangle", [lambda r: r[:-1] + ("A" if r[-1] != "A" else "B"), lambda r: "hp_00000000_x", lambda r: ""]
)
def test_forged_tokens_are_refused(client, province, mangle):
    _, raw = services.token_create(actor=province.alice, name="对接")
    assert bearer(client, mangle(raw)).status_code == 401


def test_revoked_token_stops_working(as_user, province, client):
    token, raw = services.token_create(actor=province.alice, name="对接")
    web = as_user(province.alice)
    response = web.post(reverse("accounts:token-revoke", args=[token.pk]), follow=True)
    assert "已吊销" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    web.logout()
    assert bearer(client, raw).status_code == 401
    event = AuditEvent.objects.get(action="accounts.token.revoked")
    assert event.target_id == str(token.pk) and event.actor_id == province.alice.pk


def test_expired_token_stops_working(client, province):
    token, raw = services.token_create(actor=province.alice, name="对接", days=1)
    assert bearer(client, raw).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert bearer(client, raw).status_code == 401


def test_token_of_a_deactivated_user_stops_working(client, province):
    _, raw = services.token_create(actor=province.alice, name="对接")
    province.alice.is_active = False
    province.alice.save()
    assert bearer(client, raw).status_code == 401


def test_another_users_token_cannot_be_revoked(as_user, province):
    token, _ = services.token_create(actor=province.bob, name="崂山对接")
    response = as_user(province.alice).post(reverse("accounts:token-revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    with pytest.raises(PermissionDeniedError):
        services.token_revoke(actor=province.alice, token=token)
    assert not AuditEvent.objects.filter(action="accounts.token.revoked").exists()


def test_platform_admin_may_revoke_any_token(province):
    token, _ = services.token_create(actor=province.bob, name="崂山对接")
    services.token_revoke(actor=province.admin, token=token)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_page_lists_only_ones_own_tokens(as_user, province):
    services.token_create(actor=province.bob, name="崂山对接")
    services.token_create(actor=province.alice, name="泉城对接")
    html = as_user(province.alice).get(PAGE).content.decode()
    assert "泉城对接" in html and "崂山对接" not in html


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "days": "30"}, "name"),
        ({"name": "x", "days": "0"}, "days"),
        ({"name": "x", "days": "abc"}, "days"),
    ],
)
def test_bad_token_input_changes_nothing(as_user, province, data, field):
    response = as_user(province.alice).post(PAGE, data)
    assert response.status_code == 200
    assert field in response.context["error"].details
    assert not ApiToken.objects.exists()


def test_two_active_tokens_may_not_share_a_name(province):
    services.token_create(actor=province.alice, name="对接")
    with pytest.raises(ValidationFailed):
        services.token_create(actor=province.alice, name="对接")


def test_revoke_needs_post(as_user, province):
    token, _ = services.token_create(actor=province.alice, name="对接")
    assert as_user(province.alice).get(reverse("accounts:token-revoke", args=[token.pk])).status_code == 405


def test_read_only_member_may_hold_a_token_but_it_cannot_write(client, province):
    """A token carries exactly its user's rights: a read-only member's token reads, never writes."""
    from haopin.core.policies import scope_of

    _, raw = services.token_create(actor=province.alice_viewer, name="只读")
    response = bearer(client, raw)
    assert response.status_code == 200
    assert response.json()["can_write"] is False
    assert scope_of(province.alice_viewer).can_write is False
