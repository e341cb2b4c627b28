"""Writes to reference data (regions, categories, brand types, programmes, tiers).

Reference data is seeded by migrations and edited by platform admins in the admin site, whose
saves come here so that every change is audited.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from haopin.core import audit
from haopin.core.errors import PermissionDeniedError
from haopin.core.writes import full_clean_or_raise

AUDIT_ACTIONS = {
    "core.reference.created": "新增基础数据",
    "core.reference.updated": "修改基础数据",
    "core.reference.deleted": "删除基础数据",
}


def _editable_fields(obj: models.Model) -> list[str]:
    return [f.name for f in obj._meta.concrete_fields if f.editable and not f.primary_key]


def reference_snapshot(obj: models.Model) -> dict[str, Any]:
    """The state of a reference row before an edit, to pass to ``reference_save``."""
    return audit.snapshot(obj, _editable_fields(obj))


@transaction.atomic
def reference_save(*, actor: Any, obj: models.Model, original: dict[str, Any] | None) -> models.Model:
    """Create or update a reference row; ``original`` is ``reference_snapshot`` before the edit."""
    if not getattr(actor, "is_superuser", False):
        raise PermissionDeniedError("只有平台管理员可以维护基础数据。")
    full_clean_or_raise(obj)
    created = obj.pk is None
    obj.save()
    fields = _editable_fields(obj)
    if created:
        audit.record("core.reference.created", target=obj, actor=actor, new=audit.snapshot(obj, fields))
    else:
        old, new = audit.changes(original or {}, audit.snapshot(obj, fields))
        if new:
            audit.record("core.reference.updated", target=obj, actor=actor, old=old, new=new)
    return obj


@transaction.atomic
def reference_delete(*, actor: Any, obj: models.Model) -> None:
    if not getattr(actor, "is_superuser", False):
        raise PermissionDeniedError("只有平台管理员可以维护基础数据。")
    snapshot = audit.snapshot(obj, _editable_fields(obj))
    audit.record("core.reference.deleted", target=obj, actor=actor, old=snapshot)
    obj.delete()  # PROTECT foreign keys refuse deleting rows still in use
