"""The registry's code validators: check characters, formats, and messages an official can act on."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from haopin.registry.validation import (
    make_gtin,
    make_uscc,
    normalise_gtin,
    normalise_industry_code,
    normalise_standard_codes,
    normalise_trademarks,
    normalise_uscc,
    validate_industry_code,
    validate_phone,
)

GOOD_USCC = make_uscc("370102", 1)


def _wrong_last(code: str, alphabet: str) -> str:
    return code[:-1] + next(c for c in alphabet if c != code[-1])


# --- unified social credit codes (GB 32100) ---------------------------------------------------


def test_valid_uscc_is_compacted_and_upper_cased():
    messy = " " + GOOD_USCC[:9].lower() + "-" + GOOD_USCC[9:].lower() + " "
    assert normalise_uscc(messy) == GOOD_USCC


def test_wrong_uscc_check_character_names_the_expected_one():
    wrong = _wrong_last(GOOD_USCC, "0123456789ABCDEFGHJKLMNPQRTUWXY")
    with pytest.raises(ValidationError) as info:
        normalise_uscc(wrong)
    assert info.value.code == "uscc_checksum"
    assert f"末位应为 {GOOD_USCC[-1]}" in info.value.messages[0]


def test_short_uscc_says_how_long_it_is():
    with pytest.raises(ValidationError) as info:
        normalise_uscc(GOOD_USCC[:17])
    assert info.value.code == "uscc_length"
    assert "当前为 17 位" in info.value.messages[0]


def test_uscc_with_letters_in_the_division_code_is_malformed():
    with pytest.raises(ValidationError) as info:
        normalise_uscc("91AB0102" + GOOD_USCC[8:])
    assert info.value.code == "uscc_format"


@given(st.integers(min_value=0, max_value=999_999_999))
def test_every_generated_uscc_validates(serial):
    assert normalise_uscc(make_uscc("370212", serial)) == make_uscc("370212", serial)


# --- GTIN -------------------------------------------------------------------------------------


def test_valid_gtin13_passes_and_spaces_are_dropped():
    gtin = make_gtin("6901234", 7)
    assert normalise_gtin(f"{gtin[:1]} {gtin[1:7]} {gtin[7:]}") == gtin


def test_wrong_gtin_check_digit_names_the_expected_digit():
    gtin = make_gtin("6901234", 7)
    with pytest.raises(ValidationError) as info:
        normalise_gtin(_wrong_last(gtin, "0123456789"))
    assert info.value.code == "gtin_checksum"
    assert f"末位应为 {gtin[-1]}" in info.value.messages[0]


@pytest.mark.parametrize(
    ("value", "code"), [("69012340000", "gtin_length"), ("6901234ABC012", "gtin_format")]
)
def test_gtin_of_wrong_length_or_with_letters(value, code):
    with pytest.raises(ValidationError) as info:
        normalise_gtin(value)
    assert info.value.code == code


# --- standards --------------------------------------------------------------------------------


def test_standard_codes_are_normalised_and_deduplicated():
    assert normalise_standard_codes("gb/t 19001—2016；T/SDAQI 001，GB/T  19001-2016、DB37/T 1234") == [
        "GB/T 19001-2016",
        "T/SDAQI 001",
        "DB37/T 1234",
    ]


@pytest.mark.parametrize("bad", ["ISO 9001", "GB/T", "19001-2016", "GB/T 19001-16", "T/ 001"])
def test_malformed_standard_code_is_quoted_in_the_message(bad):
    with pytest.raises(ValidationError) as info:
        normalise_standard_codes([bad])
    assert info.value.code == "standard_format"
    assert bad in info.value.messages[0]


# --- trademarks, industry codes, phones -------------------------------------------------------


def test_trademark_numbers_split_on_chinese_and_latin_separators():
    assert normalise_trademarks("12345678，1234567a 12345678") == ["12345678", "1234567A"]
    with pytest.raises(ValidationError):
        normalise_trademarks("TM-1")


def test_industry_code_must_belong_to_its_section():
    divisions = {"14": "C", "01": "A"}
    assert normalise_industry_code("c1411", divisions) == "C1411"
    with pytest.raises(ValidationError) as info:
        normalise_industry_code("A14", divisions)
    assert info.value.code == "industry_unknown"
    with pytest.raises(ValidationError) as info:
        normalise_industry_code("C1", divisions)
    assert info.value.code == "industry_format"


def test_industry_code_is_checked_against_the_reference_table(db):
    validate_industry_code("C1511")
    with pytest.raises(ValidationError):
        validate_industry_code("A15")


@pytest.mark.parametrize("phone", ["13912345678", "+86 13912345678", "0531-88881234", "053188881234"])
def test_valid_phones(phone):
    validate_phone(phone)


@pytest.mark.parametrize("phone", ["12345", "1391234567", "call me"])
def test_invalid_phones(phone):
    with pytest.raises(ValidationError):
        validate_phone(phone)
