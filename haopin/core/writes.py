"""Helpers that every service uses to validate and change a model instance.

``full_clean_or_raise`` turns Django's ValidationError into the domain's ValidationFailed, so
forms, the API and imports see one error shape; ``assign`` applies allowed fields and tells
what changed, for the audit event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import models

from haopin.core import audit
from haopin.core.errors import ValidationFailed


def messages_of(error: ValidationError) -> dict[str, str]:
    """Field → first message (Chinese); non-field errors under ``__all__``."""
    if hasattr(error, "error_dict"):
        return {field: messages[0] for field, messages in error.message_dict.items()}
    return {"__all__": " ".join(error.messages)}


def full_clean_or_raise(obj: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=list(exclude) if exclude else None)
    except ValidationError as exc:
        details = messages_of(exc)
        first = next(iter(details.values()))
        raise ValidationFailed(f"填写内容有误：{first}", details=details) from exc


def assign(
    obj: models.Model, values: Mapping[str, Any], *, allowed: Iterable[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set ``values`` on ``obj`` (only ``allowed`` fields); return (old, new) of what changed.

    Unknown or forbidden fields are an error, not silently dropped: a client that sends a
    field it may not change must learn so.
    """
    allowed = set(allowed)
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValidationFailed(
            "包含不允许修改的字段：" + "、".join(unknown),
            details={name: "不允许修改此字段。" for name in unknown},
        )
    before = audit.snapshot(obj, values.keys())
    for name, value in values.items():
        field = cast(models.Field, obj._meta.get_field(name))  # ``allowed`` are the model's own fields
        setattr(
            obj, field.attname if field.is_relation and not isinstance(value, models.Model) else name, value
        )
    after = audit.snapshot(obj, values.keys())
    return audit.changes(before, after)
