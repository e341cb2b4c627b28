"""Writes of notifications. Creating and reading notifications are not audited: they are copies
of events already audited in the domain that caused them, addressed to a person."""

from __future__ import annotations

AUDIT_ACTIONS: dict[str, str] = {}
