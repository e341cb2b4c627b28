"""State machines as tables (DESIGN.md, convention 3).

A workflow is a ``Status`` (TextChoices) and a ``dict[str, Transition]`` keyed by action name.
``apply()`` is the one function that moves an object: it locks the row, re-reads the status,
rejects illegal moves and users who may not act, checks the fields the move needs, saves, and
lets the caller record the status change and the audit event in the same transaction. Two
people acting at once cannot both succeed: the second one finds the status already moved (the
row lock orders them) and gets IllegalTransition, or, if their form carried the status it was
rendered with, a ConflictError naming what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import models, transaction

from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed

NEEDS_LABELS = {
    "opinion": "意见",
    "deadline": "整改期限",
    "reason": "原因",
    "evidence": "证明材料",
}


class IllegalTransition(ConflictError):
    code = "illegal_transition"


@dataclass(frozen=True)
class Transition:
    """One move: from any of ``source`` to ``target``, by whom ``actor(user, obj)`` allows."""

    source: frozenset[str] | set[str]
    target: str
    label: str
    actor: Callable[[Any, Any], bool]
    needs: tuple[str, ...] = ()
    guard: Callable[[Any], str | None] | None = None  # returns why the move is blocked, or None
    style: str = ""  # "danger" for rejecting moves, shown as such in the workspace

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", frozenset(self.source))


@dataclass
class Moved:
    """What ``apply`` did, for the caller's history row and audit event."""

    obj: Any
    action: str
    source: str
    target: str
    fields: dict[str, Any] = field(default_factory=dict)


def available(table: Mapping[str, Transition], obj: Any, user: Any) -> list[tuple[str, Transition]]:
    """The actions ``user`` may take on ``obj`` now (for buttons and the API's action list)."""
    result = []
    for name, move in table.items():
        blocked = move.guard is not None and move.guard(obj)
        if obj.status in move.source and move.actor(user, obj) and not blocked:
            result.append((name, move))
    return result


def apply(
    table: Mapping[str, Transition],
    obj: models.Model,
    action: str,
    *,
    actor: Any,
    status_labels: Mapping[str, str],
    expected_status: str | None = None,
    **given: Any,
) -> Moved:
    """Lock ``obj``, check and perform ``action``; the caller records history and audit.

    Must run inside the caller's transaction (the service's ``@transaction.atomic``).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("workflow.apply must run inside the service's transaction")
    move = table.get(action)
    if move is None:
        raise ValidationFailed(f"未知的操作“{action}”。", code="unknown_action")
    # A workflow's model has an ``objects`` manager and a ``status`` field.
    locked = cast(Any, type(obj)).objects.select_for_update().get(pk=obj.pk)
    current = locked.status
    if expected_status is not None and current != expected_status:
        raise ConflictError(
            f"该事项已被他人处理，当前状态为“{status_labels.get(current, current)}”，请刷新后再操作。",
            code="stale_status",
        )
    if current not in move.source:
        raise IllegalTransition(
            f"当前状态为“{status_labels.get(current, current)}”，不能执行“{move.label}”。",
            details={"status": current, "action": action},
        )
    if not move.actor(actor, locked):
        raise PermissionDeniedError(f"您无权执行“{move.label}”。")
    missing = [name for name in move.needs if given.get(name) in (None, "", [])]
    if missing:
        raise ValidationFailed(
            "请填写" + "、".join(NEEDS_LABELS.get(n, n) for n in missing) + "。",
            details={n: f"执行“{move.label}”时必须填写{NEEDS_LABELS.get(n, n)}。" for n in missing},
        )
    if move.guard is not None:
        blocked = move.guard(locked)
        if blocked:
            raise ValidationFailed(blocked, code="guard_failed")
    locked.status = move.target
    update_fields = ["status"]
    if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
        update_fields.append("updated_at")
    locked.save(update_fields=update_fields)
    cast(Any, obj).status = move.target
    return Moved(locked, action, current, move.target, dict(given))
