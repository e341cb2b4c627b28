"""Issuing certificates for a published batch, their status changes, and who sees them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from haopin.certificates import policies, selectors, services, workspace_entries
from haopin.certificates.models import Certificate, CertificateEvent
from haopin.certificates.tests.factories import SHANGHAI, application, at, batch
from haopin.core import numbering
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent
from haopin.core.workflow import IllegalTransition
from haopin.evaluation.models import Application, Batch
from haopin.notifications.models import Notification

C = Certificate.Status
PUBLISHED_AT = dt.datetime(2025, 6, 18, 15, 30, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(at(2025, 6, 20), tick=False) as traveller:
        yield traveller


@pytest.fixture
def published(province):
    the_batch = batch(status=Batch.Status.PUBLISHED, published_at=PUBLISHED_AT)
    apps = [
        application(province, the_batch, who="alice", status=Application.Status.PUBLISHED),
        application(province, the_batch, who="bob", status=Application.Status.PUBLISHED),
    ]
    return the_batch, apps


@pytest.fixture
def certificates(province, published):
    issued = services.certificates_issue_for_batch(actor=province.office, batch=published[0])
    return {c.brand.owner.name[:2]: c for c in issued}


@pytest.fixture
def alice_cert(certificates):
    return certificates["泉城"]


# --- issuing --------------------------------------------------------------------------------------


def test_one_certificate_per_published_application(province, published):
    the_batch, (alice_app, bob_app) = published
    rejected = application(province, the_batch, who="alice", status=Application.Status.REJECTED)
    issued = services.certificates_issue_for_batch(actor=province.office, batch=the_batch)
    assert [c.application for c in issued] == [alice_app, bob_app]
    assert not Certificate.objects.filter(application=rejected).exists()
    cert = issued[0]
    assert re.fullmatch(r"HP2025\d{6}[0-9A-Z]", cert.number) and numbering.is_valid(cert.number)
    assert cert.number[:-1] == "HP2025000001" and issued[1].number[:-1] == "HP2025000002"
    # Valid from the publication date for three years; the day before the anniversary is the last.
    assert (cert.issued_on, cert.valid_from, cert.valid_until) == (
        dt.date(2025, 6, 18),
        dt.date(2025, 6, 18),
        dt.date(2028, 6, 17),
    )
    assert cert.status == C.VALID and cert.logo_licence
    assert cert.enterprise == province.alice_ent and cert.brand == province.alice_brand
    assert list(cert.products.all()) == [province.alice_product]
    assert (
        "品牌：泉城（产品品牌）" in cert.scope
        and "泉城酥锅 500g" in cert.scope
        and "好品山东”标识" in cert.scope
    )
    event = CertificateEvent.objects.get(certificate=cert)
    assert (event.from_status, event.to_status, event.actor) == ("", C.VALID, province.office)
    audits = AuditEvent.objects.filter(action="certificates.certificate.issued").order_by("seq")
    assert [a.new["number"] for a in audits] == [c.number for c in issued]
    assert audits[0].new["valid_until"] == "2028-06-17"
    note = Notification.objects.get(user=province.alice, kind="certificates.issued")
    assert cert.number in note.title
    assert not Notification.objects.filter(user=province.bob, title__contains=cert.number).exists()


def test_issuing_is_idempotent(province, published, certificates):
    events = AuditEvent.objects.count()
    assert services.certificates_issue_for_batch(actor=province.office, batch=published[0]) == []
    assert Certificate.objects.count() == 2 and AuditEvent.objects.count() == events
    # A late publication (say, after a quota decision) gets its certificate, and only it.
    Application.objects.filter(pk=published[1][0].pk).update(status=Application.Status.REJECTED)
    late = application(province, published[0], who="alice", status=Application.Status.PUBLISHED)
    [extra] = services.certificates_issue_for_batch(actor=province.office, batch=published[0])
    assert extra.application == late and extra.number[:-1] == "HP2025000003"


def test_pool_brands_become_member_brands_through_the_registry(province, published, certificates):
    province.alice_brand.refresh_from_db()
    province.bob_brand.refresh_from_db()
    assert province.alice_brand.tier == province.member  # was the cultivation pool
    assert province.bob_brand.tier == province.member  # was already a member
    updated = AuditEvent.objects.filter(action="registry.brand.updated")
    assert [e.target_id for e in updated] == [str(province.alice_brand.pk)]
    assert updated[0].new == {"tier": province.member.pk} and updated[0].actor_id == province.office.pk


def test_benchmark_brands_keep_their_tier(province, published):
    province.alice_brand.tier = province.benchmark
    province.alice_brand.save()
    services.certificates_issue_for_batch(actor=province.office, batch=published[0])
    province.alice_brand.refresh_from_db()
    assert province.alice_brand.tier == province.benchmark


def test_validity_follows_the_batch(province):
    the_batch = batch(
        status=Batch.Status.PUBLISHED,
        certificate_years=5,
        published_at=dt.datetime(2028, 2, 29, 9, tzinfo=SHANGHAI),
        year=2028,
        sequence=1,
    )
    application(province, the_batch, status=Application.Status.PUBLISHED)
    [cert] = services.certificates_issue_for_batch(actor=province.office, batch=the_batch)
    assert (cert.valid_from, cert.valid_until) == (dt.date(2028, 2, 29), dt.date(2033, 2, 28))
    assert cert.number.startswith("HP2028")


@pytest.mark.parametrize("who", ["office_viewer", "admin", "city_jinan", "dept_agri", "alice"])
def test_only_the_office_issues(province, published, who):
    with pytest.raises(PermissionDeniedError):
        services.certificates_issue_for_batch(actor=getattr(province, who), batch=published[0])
    assert not Certificate.objects.exists()


def test_nothing_is_issued_before_the_results_are_published(province):
    reviewing = batch(status=Batch.Status.REVIEWING)
    application(province, reviewing, status=Application.Status.PUBLISHED)
    with pytest.raises(ConflictError, match="尚未发布结果"):
        services.certificates_issue_for_batch(actor=province.office, batch=reviewing)
    assert not Certificate.objects.exists()


# --- status changes -------------------------------------------------------------------------------


def test_suspend_restore_revoke_with_history_audit_and_notifications(province, alice_cert):
    services.certificate_suspend(actor=province.office, certificate=alice_cert, reason="抽检不合格，限期整改")
    assert alice_cert.status == C.SUSPENDED and alice_cert.status_reason == "抽检不合格，限期整改"
    services.certificate_restore(actor=province.office, certificate=alice_cert, reason="整改完成，复检合格")
    services.certificate_revoke(actor=province.office, certificate=alice_cert, reason="再次抽检不合格")
    alice_cert.refresh_from_db()
    assert alice_cert.status == C.REVOKED and alice_cert.status_reason == "再次抽检不合格"
    history = [(e.from_status, e.to_status, e.reason) for e in selectors.certificate_events(alice_cert)]
    assert history[1:] == [
        (C.VALID, C.SUSPENDED, "抽检不合格，限期整改"),
        (C.SUSPENDED, C.VALID, "整改完成，复检合格"),
        (C.VALID, C.REVOKED, "再次抽检不合格"),
    ]
    actions = list(
        AuditEvent.objects.filter(target_type="certificates.certificate", target_id=str(alice_cert.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "certificates.certificate.issued",
        "certificates.certificate.suspended",
        "certificates.certificate.restored",
        "certificates.certificate.revoked",
    ]
    kinds = list(
        Notification.objects.filter(user=province.alice).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == [
        "certificates.issued",
        "certificates.suspended",
        "certificates.valid",
        "certificates.revoked",
    ]
    # The holder's read-only member is told too; other holders are not.
    assert Notification.objects.filter(user=province.alice_viewer, kind="certificates.revoked").exists()
    assert not Notification.objects.filter(user=province.bob, kind="certificates.revoked").exists()


def test_withdrawal_on_request(province, alice_cert):
    services.certificate_withdraw(actor=province.office, certificate=alice_cert, reason="企业申请注销")
    alice_cert.refresh_from_db()
    assert alice_cert.status == C.WITHDRAWN
    assert AuditEvent.objects.filter(action="certificates.certificate.withdrawn").count() == 1


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (C.VALID, "restore"),
        (C.SUSPENDED, "suspend"),
        (C.REVOKED, "restore"),
        (C.REVOKED, "suspend"),
        (C.REVOKED, "revoke"),
        (C.WITHDRAWN, "revoke"),
        (C.EXPIRED, "restore"),
        (C.EXPIRED, "withdraw"),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(province, alice_cert, status, action):
    Certificate.objects.filter(pk=alice_cert.pk).update(status=status, status_reason="之前的原因")
    alice_cert.refresh_from_db()
    audits, events = AuditEvent.objects.count(), CertificateEvent.objects.count()
    with pytest.raises(IllegalTransition):
        services.certificate_move(actor=province.office, certificate=alice_cert, action=action, reason="理由")
    alice_cert.refresh_from_db()
    assert (alice_cert.status, alice_cert.status_reason) == (status, "之前的原因")
    assert (AuditEvent.objects.count(), CertificateEvent.objects.count()) == (audits, events)


def test_a_reason_is_required_and_bounded(province, alice_cert):
    with pytest.raises(ValidationFailed) as error:
        services.certificate_suspend(actor=province.office, certificate=alice_cert, reason="  ")
    assert "reason" in error.value.details
    with pytest.raises(ValidationFailed):
        services.certificate_suspend(actor=province.office, certificate=alice_cert, reason="长" * 301)
    with pytest.raises(ValidationFailed, match="未知的操作"):
        services.certificate_move(actor=province.office, certificate=alice_cert, action="expire", reason="x")
    alice_cert.refresh_from_db()
    assert alice_cert.status == C.VALID


@pytest.mark.parametrize("who", ["office_viewer", "admin", "city_jinan", "dept_agri", "alice", "expert"])
def test_only_the_office_changes_a_status(province, alice_cert, who):
    with pytest.raises(PermissionDeniedError):
        services.certificate_revoke(actor=getattr(province, who), certificate=alice_cert, reason="理由")
    alice_cert.refresh_from_db()
    assert alice_cert.status == C.VALID
    assert policies.available_actions(getattr(province, who), alice_cert) == []


def test_a_certificate_past_its_validity_cannot_be_restored(province, alice_cert, clock):
    services.certificate_suspend(actor=province.office, certificate=alice_cert, reason="暂停")
    clock.move_to(at(2028, 6, 18))
    with pytest.raises(ValidationFailed, match="已过有效期"):
        services.certificate_restore(actor=province.office, certificate=alice_cert, reason="恢复")
    assert [name for name, _ in policies.available_actions(province.office, alice_cert)] == [
        "revoke",
        "withdraw",
    ]


def test_a_stale_form_gets_a_clear_conflict(province, alice_cert):
    services.certificate_suspend(actor=province.office, certificate=alice_cert, reason="暂停")
    with pytest.raises(ConflictError, match="已被他人处理"):
        services.certificate_move(
            actor=province.office,
            certificate=alice_cert,
            action="revoke",
            reason="撤销",
            expected_status=C.VALID,
        )


def test_the_office_sees_the_buttons_it_may_press(province, alice_cert):
    assert [name for name, _ in policies.available_actions(province.office, alice_cert)] == [
        "suspend",
        "revoke",
        "withdraw",
    ]


# --- who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("office", {"泉城", "崂山"}),
        ("office_viewer", {"泉城", "崂山"}),
        ("admin", {"泉城", "崂山"}),
        ("city_jinan", {"泉城"}),
        ("county_lixia", {"泉城"}),
        ("city_qingdao", {"崂山"}),
        ("dept_agri", {"崂山"}),  # tea is agricultural, and it is a GI brand
        ("dept_commerce", set()),
        ("alice", {"泉城"}),
        ("alice_viewer", {"泉城"}),
        ("bob", {"崂山"}),
        ("carol", set()),
        ("expert", set()),
    ],
)
def test_certificates_are_scoped_like_the_registry(province, certificates, who, visible):
    seen = {c.enterprise.name[:2] for c in selectors.certificates_for_user(getattr(province, who))}
    assert seen == visible


def test_a_certificate_outside_ones_scope_is_not_found(province, certificates):
    cert = certificates["崂山"]
    assert selectors.certificate_get_for_user(province.bob, cert.uuid) == cert
    with pytest.raises(NotFoundError):
        selectors.certificate_get_for_user(province.alice, cert.uuid)


def test_the_public_lookup_by_number(certificates):
    cert = certificates["泉城"]
    found = selectors.certificate_public_get(f" {cert.number.lower()[:6]}-{cert.number.lower()[6:]} ")
    assert found == cert
    typo = cert.number[:-3] + cert.number[-2] + cert.number[-3] + cert.number[-1]
    with pytest.raises(ValidationFailed, match=r"证书编号.*校验位不符"):
        selectors.certificate_public_get(typo)
    with pytest.raises(NotFoundError, match="未查询到"):
        selectors.certificate_public_get(numbering.with_check("HP2025999999"))


def test_the_office_to_do_counts_certificates_expiring_within_30_days(province, certificates, clock):
    assert workspace_entries.todo(province.office)[0].count == 0
    clock.move_to(at(2028, 5, 20))
    [item] = workspace_entries.todo(province.office)
    assert item.count == 2 and item.url
    assert workspace_entries.todo(province.alice) == []
    assert workspace_entries.todo(province.office_viewer) == []
