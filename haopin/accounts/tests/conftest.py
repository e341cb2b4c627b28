"""Fixtures of the accounts tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the (local memory) cache and would leak between tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def counts():
    """How many rows each table touched by registration holds, to show a failure changed nothing."""
    from haopin.accounts.models import Membership, Organisation, User
    from haopin.core.models import AuditEvent
    from haopin.registry.models import Enterprise

    def snapshot() -> dict[str, int]:
        return {
            model.__name__: model.objects.count()
            for model in (Organisation, User, Membership, Enterprise, AuditEvent)
        }

    return snapshot
