"""Public numbers with a check character (ISO 7064 Mod 37,36 from python-stdnum).

Application and certificate numbers are read aloud on the phone and typed from paper; the
check character catches a mistyped or swapped character before any lookup. Numbers are
``<prefix><year><serial>`` plus the check character, e.g. ``SQ2025000123`` + ``K``; the serial
comes from a per-(prefix, year) counter row locked in the caller's transaction, so numbers are
dense and never reused even when two are issued at once.
"""

from __future__ import annotations

from django.db import transaction
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.iso7064 import mod_37_36

from haopin.core.errors import ValidationFailed
from haopin.core.models import NumberSequence


def with_check(body: str) -> str:
    return body + mod_37_36.calc_check_digit(body)


def is_valid(number: str) -> bool:
    try:
        mod_37_36.validate(number)
    except StdnumError:
        return False
    return True


def normalise(number: str, *, label: str = "编号") -> str:
    """Upper-case, strip separators and verify the check character; raise with a clear message."""
    compact = "".join(ch for ch in (number or "").upper() if ch.isalnum())
    if len(compact) < 4 or not is_valid(compact):
        raise ValidationFailed(
            f"{label}“{number}”不正确：校验位不符，请核对是否录入有误。",
            code="invalid_number",
            details={"number": f"{label}校验位不符。"},
        )
    return compact


def next_number(prefix: str, year: int, *, width: int = 6) -> str:
    """Issue the next number for (prefix, year); call inside the issuing transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbers must be issued inside the transaction that uses them")
    sequence, _ = NumberSequence.objects.select_for_update().get_or_create(prefix=prefix, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return with_check(f"{prefix}{year}{sequence.last:0{width}d}")
