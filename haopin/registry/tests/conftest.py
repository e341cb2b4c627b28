"""Fixtures of these tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def province(province):
    """The shared province, searchable: the root fixture writes its records directly rather
    than through the services that keep the search index in step, so index them here."""
    from haopin.search import index

    index.rebuild()
    return province
