"""The audit trail: a hash chain of events written by services inside their transactions.

Each event's hash covers its content and the previous event's hash, so altering, inserting or
deleting any row breaks the chain at that point; ``verify()`` (``manage.py audit_verify``) finds
the first break. The chain head row (``AuditHead``) is locked by every appender, which orders
appenders on PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers.

Event types form a closed set: each app declares its own in ``AUDIT_ACTIONS`` (``services.py``)
and registers them in ``AppConfig.ready``; recording an undeclared action is a programming error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.apps import apps as django_apps
from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from haopin.core import context
from haopin.core.bulk import bulk_insert
from haopin.core.models import AuditEvent, AuditHead

GENESIS = "0" * 64
_ACTIONS: dict[str, str] = {}
_KEY_LABELS: dict[str, str] = {}


def declare(actions: Mapping[str, str]) -> None:
    """Register event types (code → Chinese label). Codes are ``<domain>.<object>.<verb>``."""
    for code, label in actions.items():
        if code in _ACTIONS and _ACTIONS[code] != label:
            raise ValueError(f"audit action {code!r} declared twice with different labels")
        _ACTIONS[code] = label


def declare_labels(labels: Mapping[str, str]) -> None:
    """Register Chinese names for event value keys that are not model fields ("figures")."""
    for key, label in labels.items():
        if key in _KEY_LABELS and _KEY_LABELS[key] != label:
            raise ValueError(f"audit value key {key!r} declared twice with different labels")
        _KEY_LABELS[key] = label


def action_label(code: str) -> str:
    return _ACTIONS.get(code, code)


def declared_actions() -> dict[str, str]:
    return dict(sorted(_ACTIONS.items()))


def jsonable(value: Any) -> Any:
    """Normalise a value to what a JSON column gives back (dates and decimals as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values of ``obj`` for an audit event; foreign keys as their ids."""
    values: dict[str, Any] = {}
    for name in fields:
        field = cast(models.Field, obj._meta.get_field(name))  # ``fields`` are the model's own
        if field.many_to_many:
            values[name] = sorted((obj.pk and getattr(obj, name).values_list("pk", flat=True)) or [])
        elif field.is_relation:
            values[name] = getattr(obj, field.attname)
        else:
            values[name] = getattr(obj, name)
    return jsonable(values)


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys whose values differ, as (old, new) pairs of dicts."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


@dataclass(frozen=True)
class Entry:
    """An event to append; ``record_many`` takes a list of them."""

    action: str
    target_type: str
    target_id: str
    target_label: str = ""
    old: Any = None
    new: Any = None


def _target_fields(target: models.Model | tuple[str, str, str]) -> tuple[str, str, str]:
    if isinstance(target, models.Model):
        return target._meta.label_lower, str(target.pk), str(target)[:200]
    type_, id_, label = target
    return type_, str(id_), label[:200]


def _actor_fields(actor: Any) -> tuple[int | None, str, int | None]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "系统", None
    label = actor.get_username()
    full_name = getattr(actor, "full_name", "")
    if full_name:
        label = f"{label}（{full_name}）"
    membership = getattr(actor, "membership", None)
    return actor.pk, label[:150], getattr(membership, "organisation_id", None)


def canonical(value: Any) -> str:
    """The one JSON text of a value that the chain hashes (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_SCALARS = (
    "seq",
    "created_at",
    "action",
    "actor_id",
    "actor_label",
    "organisation_id",
    "target_type",
    "target_id",
    "target_label",
    "request_id",
    "client_ip",
    "prev_hash",
)


def _payload(fields: Mapping[str, Any], old_json: str, new_json: str) -> bytes:
    """The canonical JSON of an event: what ``json.dumps(body, sort_keys=True)`` would give,
    assembled from the already-canonical ``old`` and ``new`` texts so that appending thousands
    of events serialises each value once."""
    parts = {key: canonical(fields[key]) for key in _SCALARS}
    parts["old"], parts["new"] = old_json, new_json
    return ("{" + ",".join(f'"{key}":{parts[key]}' for key in sorted(parts)) + "}").encode()


def _fields(event: AuditEvent) -> dict[str, Any]:
    fields = {name: getattr(event, name) for name in _SCALARS}
    fields["created_at"] = event.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return fields


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_payload(_fields(event), canonical(event.old), canonical(event.new))).hexdigest()


def _lock_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head, _ = AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def record_many(entries: list[Entry], *, actor: Any = None, client: str = "") -> int:
    """Append events in order, in the caller's transaction (one lock, batched inserts).

    Returns the number of events written. Each value is serialised once to its canonical JSON,
    which is both hashed and stored (rows go in through ``core.bulk.bulk_insert``: an import
    appends one event per changed row).
    """
    if not entries:
        return 0
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events must be written inside the service's transaction")
    for entry in entries:
        if entry.action not in _ACTIONS:
            raise ValueError(f"undeclared audit action {entry.action!r}")
    actor_id, actor_label, organisation_id = _actor_fields(actor)
    ctx = context.current()
    head = _lock_head()
    # Microsecond precision survives both SQLite and PostgreSQL, so hashes recompute exactly.
    now = timezone.now()
    created = now.astimezone(dt.UTC).isoformat(timespec="microseconds")
    client_ip = ctx.client_ip or client
    rows = []
    seq, prev = head.seq, head.hash
    for entry in entries:
        seq += 1
        old_json, new_json = canonical(entry.old), canonical(entry.new)
        fields = {
            "seq": seq,
            "created_at": created,
            "action": entry.action,
            "actor_id": actor_id,
            "actor_label": actor_label,
            "organisation_id": organisation_id,
            "target_type": entry.target_type,
            "target_id": entry.target_id,
            "target_label": entry.target_label,
            "request_id": ctx.request_id,
            "client_ip": client_ip,
            "prev_hash": prev,
        }
        prev = hashlib.sha256(_payload(fields, old_json, new_json)).hexdigest()
        rows.append(
            {
                **fields,
                "created_at": now,
                "actor": actor_id,
                "organisation": organisation_id,
                "old": json.loads(old_json),
                "new": json.loads(new_json),
                "hash": prev,
            }
        )
    bulk_insert(AuditEvent, rows)
    AuditHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return len(rows)


def record(
    action: str,
    *,
    target: models.Model | tuple[str, str, str],
    actor: Any = None,
    old: Any = None,
    new: Any = None,
) -> None:
    """Append one event about ``target`` (a model instance, or (type, id, label))."""
    target_type, target_id, target_label = _target_fields(target)
    record_many([Entry(action, target_type, target_id, target_label, old, new)], actor=actor)


def entry_for(action: str, target: models.Model, *, old: Any = None, new: Any = None) -> Entry:
    target_type, target_id, target_label = _target_fields(target)
    return Entry(action, target_type, target_id, target_label, old, new)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    head_hash: str
    problem: str = ""
    seq: int | None = None


def verify(*, chunk_size: int = 5000) -> Verification:
    """Recompute the whole chain; report the first event that was altered, inserted or deleted."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                problem = f"第 {expected_seq} 号至第 {event.seq - 1} 号事件已被删除"
            else:
                problem = f"第 {event.seq} 号事件的序号不连续（疑似插入）"
            return Verification(False, checked, prev, problem, expected_seq)
        if event.prev_hash != prev:
            problem = f"第 {event.seq} 号事件的前序哈希与链不符（之前的事件被插入、删除或篡改）"
            return Verification(False, checked, prev, problem, event.seq)
        if compute_hash(event) != event.hash:
            problem = f"第 {event.seq} 号事件的内容已被篡改（{event.action}）"
            return Verification(False, checked, prev, problem, event.seq)
        prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else 0
    head_hash = head.hash if head else GENESIS
    if head_seq != checked or head_hash != prev:
        if head_seq > checked:
            problem = f"链尾的第 {checked + 1} 号至第 {head_seq} 号事件已被删除"
            return Verification(False, checked, prev, problem, checked + 1)
        problem = f"第 {head_seq + 1} 号之后的事件未经审计服务写入（疑似插入）"
        return Verification(False, checked, prev, problem, head_seq + 1)
    return Verification(True, checked, prev)


# --- presentation ------------------------------------------------------------------------------


def field_label(event: AuditEvent, key: str) -> str:
    """The Chinese name of a field of the event's target model (the key itself if none)."""
    try:
        field = django_apps.get_model(event.target_type)._meta.get_field(key)
    except (LookupError, ValueError, FieldDoesNotExist):
        return _KEY_LABELS.get(key, key)
    # Reverse relations (an application's "figures") have no verbose name.
    return str(getattr(field, "verbose_name", "") or _KEY_LABELS.get(key, key))


def value_rows(event: AuditEvent) -> list[dict[str, Any]]:
    """The event's old and new values side by side, one row per field."""
    old = event.old if isinstance(event.old, dict) else {}
    new = event.new if isinstance(event.new, dict) else {}
    return [
        {
            "key": key,
            "label": field_label(event, key),
            "old": old.get(key),
            "new": new.get(key),
            "in_old": key in old,
            "in_new": key in new,
        }
        for key in dict.fromkeys([*old, *new])
    ]
