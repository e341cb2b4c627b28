"""Public numbers carry an ISO 7064 check character and are issued densely per year."""

from __future__ import annotations

import pytest
from django.db import transaction

from haopin.core import numbering
from haopin.core.errors import ValidationFailed


@pytest.mark.django_db
def test_numbers_are_dense_per_prefix_and_year_and_carry_a_check_character():
    with transaction.atomic():
        first = numbering.next_number("SQ", 2025)
        second = numbering.next_number("SQ", 2025)
        other_year = numbering.next_number("SQ", 2026)
    assert first[:-1] == "SQ2025000001" and second[:-1] == "SQ2025000002"
    assert other_year[:-1] == "SQ2026000001"
    assert all(numbering.is_valid(n) for n in (first, second, other_year))


def test_a_mistyped_character_is_caught():
    number = numbering.with_check("ZS2025000042")
    assert numbering.normalise(number.lower()) == number
    typo = number[:-2] + ("3" if number[-2] != "3" else "4") + number[-1]
    with pytest.raises(ValidationFailed, match="校验位不符"):
        numbering.normalise(typo, label="证书编号")


def test_swapped_neighbours_are_caught():
    number = numbering.with_check("ZS2025000123")
    swapped = number[:-3] + number[-2] + number[-3] + number[-1]
    assert not numbering.is_valid(swapped)
