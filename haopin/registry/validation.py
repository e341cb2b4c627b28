"""Validators for the registry's codes, with messages a Chinese official understands.

Check digits come from python-stdnum (USCC: GB 32100; GTIN: GS1); nothing here re-implements
an algorithm. Each validator returns the normalised value and raises Django's ValidationError,
so model fields, forms, the API and the importer share them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from stdnum import ean
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError


def normalise_uscc(value: str) -> str:
    """Validate a unified social credit code and return it in its compact upper-case form."""
    compact = stdnum_uscc.compact(value or "")
    try:
        return stdnum_uscc.validate(compact)
    except InvalidLength:
        raise ValidationError(
            "统一社会信用代码应为 18 位，当前为 %(n)s 位。", code="uscc_length", params={"n": len(compact)}
        ) from None
    except InvalidFormat:
        raise ValidationError(
            "统一社会信用代码格式不正确：前 8 位应为数字，其余为数字或大写字母（不含 I、O、Z、S、V）。",
            code="uscc_format",
        ) from None
    except InvalidChecksum:
        expected = stdnum_uscc.calc_check_digit(compact[:17])
        raise ValidationError(
            "统一社会信用代码校验位错误：末位应为 %(c)s，请核对是否录入有误。",
            code="uscc_checksum",
            params={"c": expected},
        ) from None


def validate_uscc(value: str) -> None:
    normalise_uscc(value)


def normalise_gtin(value: str) -> str:
    """Validate a GTIN-8/12/13/14 (GS1 check digit) and return its digits."""
    compact = ean.compact(value or "")
    if not compact.isdigit():
        raise ValidationError("商品条码只能包含数字。", code="gtin_format")
    if len(compact) not in (8, 12, 13, 14):
        raise ValidationError(
            "商品条码应为 8、12、13 或 14 位数字，当前为 %(n)s 位。",
            code="gtin_length",
            params={"n": len(compact)},
        )
    try:
        return ean.validate(compact)
    except InvalidChecksum:
        expected = ean.calc_check_digit(compact[:-1])
        raise ValidationError(
            "商品条码校验位错误：末位应为 %(c)s。", code="gtin_checksum", params={"c": expected}
        ) from None
    except StdnumError:
        raise ValidationError("商品条码格式不正确。", code="gtin_format") from None


def validate_gtin(value: str) -> None:
    normalise_gtin(value)


# National (GB, GB/T, GB/Z), sector (QB/T, NY/T, …), local (DB37/T), group (T/…) and enterprise
# (Q/…) standards: a prefix, a number with optional parts, an optional S (enterprise standards)
# and an optional year.
_STANDARD = re.compile(
    r"^(?P<prefix>GB(?:/[TZ])?|[A-Z]{2}(?:/[TZ])?|DB\d{2}(?:/T)?|T/[A-Z0-9]{2,16}|Q/[A-Z0-9]{1,16})"
    r"\s*(?P<number>[0-9][0-9.]*(?:[A-Z])?(?:\s*[-—–]\s*(?P<year>(?:19|20)\d{2}))?)$"
)


def normalise_standard_code(value: str) -> str:
    text = re.sub(r"\s+", " ", (value or "").strip().upper().replace("／", "/"))
    match = _STANDARD.match(text)
    if not match:
        raise ValidationError(
            "执行标准编号“%(v)s”格式不正确，应如 GB/T 19001-2016、DB37/T 1234、T/SDAQI 001。",
            code="standard_format",
            params={"v": value},
        )
    number = re.sub(r"\s*[-—–]\s*", "-", match.group("number"))
    return f"{match.group('prefix')} {number}"


def normalise_standard_codes(values: Iterable[str] | str) -> list[str]:
    if isinstance(values, str):
        values = [v for v in re.split(r"[;；,，、\n]+", values) if v.strip()]
    seen: list[str] = []
    for value in values:
        code = normalise_standard_code(value)
        if code not in seen:
            seen.append(code)
    return seen


def validate_standard_codes(values: list[str]) -> None:
    if not isinstance(values, list):
        raise ValidationError("执行标准应为标准编号列表。", code="standard_list")
    normalise_standard_codes(values)


_INDUSTRY = re.compile(r"^([A-T])(\d{2})(\d{1,2})?$")


def normalise_industry_code(value: str, divisions: dict[str, str]) -> str:
    """A GB/T 4754-2017 code such as ``C15`` or ``C1511``; ``divisions`` maps division → section."""
    text = (value or "").strip().upper()
    match = _INDUSTRY.match(text)
    if not match:
        raise ValidationError(
            "行业代码“%(v)s”格式不正确，应为门类字母加 2～4 位数字，如 C1511。",
            code="industry_format",
            params={"v": value},
        )
    section, division = match.group(1), match.group(2)
    if divisions.get(division) != section:
        raise ValidationError(
            "行业代码“%(v)s”不存在：大类 %(d)s 不属于门类 %(s)s（GB/T 4754-2017）。",
            code="industry_unknown",
            params={"v": value, "d": division, "s": section},
        )
    return text


def validate_industry_code(value: str) -> None:
    from haopin.core.models import IndustryCode

    if value:
        divisions = dict(
            IndustryCode.objects.filter(section__isnull=False).values_list("code", "section__code")
        )
        normalise_industry_code(value, divisions)


_TRADEMARK = re.compile(r"^[0-9]{4,10}[A-Z]?$")


def normalise_trademarks(values: Iterable[str] | str) -> list[str]:
    """Registered trademark numbers (注册号), digits with an optional letter suffix."""
    if isinstance(values, str):
        values = [v for v in re.split(r"[;；,，、\s]+", values) if v.strip()]
    seen: list[str] = []
    for value in values:
        number = value.strip().upper()
        if not _TRADEMARK.match(number):
            raise ValidationError(
                "注册商标号“%(v)s”格式不正确，应为 4～10 位数字。",
                code="trademark_format",
                params={"v": value},
            )
        if number not in seen:
            seen.append(number)
    return seen


def validate_trademarks(values: list[str]) -> None:
    if not isinstance(values, list):
        raise ValidationError("注册商标号应为列表。", code="trademark_list")
    normalise_trademarks(values)


def validate_phone(value: str) -> None:
    if value and not re.match(r"^(\+?86[- ]?)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$", value):
        raise ValidationError(
            "联系电话“%(v)s”格式不正确，应为 11 位手机号码或带区号的固定电话。",
            code="phone",
            params={"v": value},
        )


def make_uscc(region_code: str, serial: int, *, authority: str = "9", kind: str = "1") -> str:
    """A well-formed credit code (for demo data and tests): authority, entity kind, the GB/T 2260
    code of the registering region, a nine-character organisation code and stdnum's check."""
    body = f"{authority}{kind}{region_code}{serial:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


def make_gtin(company_prefix: str, item: int) -> str:
    """A GTIN-13 from a GS1 company prefix (690–699 for China) and an item reference."""
    body = f"{company_prefix}{item:0{12 - len(company_prefix)}d}"
    return body + ean.calc_check_digit(body)
