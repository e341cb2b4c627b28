"""The audit chain: every write is recorded, and any tampering is found and named."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from haopin.core import audit
from haopin.core.models import AuditEvent, AuditHead, Region
from haopin.registry import services


def _three_events(province):
    services.enterprise_update(actor=province.alice, enterprise=province.alice_ent, address="泉城路 1 号")
    services.enterprise_update(actor=province.alice, enterprise=province.alice_ent, address="泉城路 2 号")
    services.enterprise_update(actor=province.alice, enterprise=province.alice_ent, address="泉城路 3 号")
    return list(AuditEvent.objects.order_by("seq"))


def test_service_writes_one_event_with_actor_old_and_new(province):
    services.enterprise_update(actor=province.alice, enterprise=province.alice_ent, address="泉城路 1 号")
    event = AuditEvent.objects.get()
    assert event.action == "registry.enterprise.updated"
    assert event.actor_id == province.alice.pk
    assert event.organisation_id == province.alice_org.pk
    assert event.target_type == "registry.enterprise"
    assert event.target_id == str(province.alice_ent.pk)
    assert event.old == {"address": ""}
    assert event.new == {"address": "泉城路 1 号"}
    assert event.prev_hash == audit.GENESIS
    assert audit.verify().ok


def test_unchanged_save_writes_no_event(province):
    services.enterprise_update(
        actor=province.alice, enterprise=province.alice_ent, name=province.alice_ent.name
    )
    assert not AuditEvent.objects.exists()


def test_chain_links_each_event_to_the_previous(province):
    events = _three_events(province)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    result = audit.verify()
    assert result.ok and result.checked == 3 and result.head_hash == events[2].hash


def test_altered_event_is_named(province):
    events = _three_events(province)
    AuditEvent.objects.filter(pk=events[1].pk).update(new={"address": "别处"})
    result = audit.verify()
    assert not result.ok
    assert result.seq == 2
    assert "篡改" in result.problem


def test_altered_actor_is_detected(province):
    events = _three_events(province)
    AuditEvent.objects.filter(pk=events[0].pk).update(actor_label="someone-else")
    assert audit.verify().seq == 1


def test_deleted_event_in_the_middle_is_named(province):
    events = _three_events(province)
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    result = audit.verify()
    assert not result.ok and result.seq == 2 and "删除" in result.problem


def test_deleted_event_at_the_end_is_found_through_the_head(province):
    events = _three_events(province)
    AuditEvent.objects.filter(pk=events[2].pk).delete()
    result = audit.verify()
    assert not result.ok and result.seq == 3 and "删除" in result.problem


def test_inserted_event_is_found(province):
    events = _three_events(province)
    forged = AuditEvent(
        seq=4,
        created_at=events[2].created_at,
        action="registry.enterprise.updated",
        target_type="registry.enterprise",
        target_id="1",
        prev_hash=events[2].hash,
    )
    forged.hash = audit.compute_hash(forged)
    forged.save()
    result = audit.verify()
    assert not result.ok and result.seq == 4 and "插入" in result.problem


def test_rewritten_middle_event_with_recomputed_hash_breaks_the_next_link(province):
    events = _three_events(province)
    victim = AuditEvent.objects.get(pk=events[1].pk)
    victim.new = {"address": "别处"}
    victim.hash = audit.compute_hash(victim)
    victim.save()
    result = audit.verify()
    assert not result.ok and result.seq == 3


def test_audit_verify_command(province):
    _three_events(province)
    call_command("audit_verify")
    AuditEvent.objects.filter(seq=2).update(action="registry.brand.created")
    with pytest.raises(CommandError, match="第 2 号事件"):
        call_command("audit_verify")


def test_event_is_rolled_back_with_the_failed_change(province):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.enterprise_update(actor=province.alice, enterprise=province.alice_ent, address="x")
        raise RuntimeError("crash in the middle")
    assert not AuditEvent.objects.exists()
    assert AuditHead.objects.get().seq == 0
    province.alice_ent.refresh_from_db()
    assert province.alice_ent.address == ""


def test_undeclared_action_is_refused(province):
    with pytest.raises(ValueError, match="undeclared"), transaction.atomic():
        audit.record("registry.brand.teleported", target=province.alice_brand)


def test_reference_region_history_is_kept_for_admin_edits(province):
    from haopin.core.services import reference_save, reference_snapshot

    region = Region.objects.get(code="370102")
    before = reference_snapshot(region)
    region.name_en = "Lixia District (Jinan)"
    reference_save(actor=province.admin, obj=region, original=before)
    event = AuditEvent.objects.get()
    assert event.action == "core.reference.updated"
    assert event.new == {"name_en": "Lixia District (Jinan)"}


def test_a_large_batch_of_events_chains_and_verifies(province):
    """Imports append thousands of events at once (COPY on PostgreSQL past a few hundred rows):
    every one must be stored exactly as it was hashed."""
    entries = [
        audit.entry_for(
            "registry.brand.updated",
            province.alice_brand,
            old={"description": f"旧 {n}"},
            new={"description": f"新 {n}", "trademark_numbers": [str(1000 + n)], "when": "2025-05-13"},
        )
        for n in range(1200)
    ]
    with transaction.atomic():
        assert audit.record_many(entries, actor=province.office) == 1200
    assert AuditEvent.objects.count() == 1200
    last = AuditEvent.objects.order_by("-seq").first()
    assert last.new == {"description": "新 1199", "trademark_numbers": ["2199"], "when": "2025-05-13"}
    assert last.actor_id == province.office.pk
    result = audit.verify()
    assert result.ok and result.checked == 1200
