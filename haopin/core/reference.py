"""Loading the reference data in ``core/data`` (called by data migrations, and by tests).

Each CSV file starts with ``#`` comment lines that record where its content came from.
English names of regions are the pinyin of the name without its suffix (济南市 → Jinan).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pypinyin import lazy_pinyin

DATA = Path(__file__).resolve().parent / "data"

_SUFFIXES = [("自治县", "Autonomous County"), ("市", "City"), ("区", "District"), ("县", "County")]
# Place names whose reading differs from the characters' usual one.
_READINGS = {"长清": ["chang", "qing"], "单": ["shan"]}


def _romanise(stem: str) -> str:
    """Hanyu pinyin as place names are written: one word, an apostrophe before a syllable
    that starts with a, o or e (泰安 → Tai'an)."""
    syllables = _READINGS.get(stem) or lazy_pinyin(stem)
    word = syllables[0] + "".join(("'" + s) if s[0] in "aoe" else s for s in syllables[1:])
    return word.capitalize()


def rows(name: str) -> Iterator[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        yield from csv.DictReader(lines)


def region_name_en(name: str, level: str) -> str:
    if level == "province":
        return "Shandong Province"
    for suffix, english in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = _romanise(name[: -len(suffix)])
            return stem if level == "city" else f"{stem} {english}"
    return _romanise(name)


def load(apps: Any) -> None:
    """Insert or update every reference row (idempotent; safe to run again)."""
    Region = apps.get_model("core", "Region")
    Category = apps.get_model("core", "Category")
    BrandType = apps.get_model("core", "BrandType")
    SourceProgramme = apps.get_model("core", "SourceProgramme")
    Tier = apps.get_model("core", "Tier")
    IndustryCode = apps.get_model("core", "IndustryCode")

    by_code: dict[str, Any] = {}
    for row in rows("regions_shandong.csv"):
        region, _ = Region.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "name_en": region_name_en(row["name"], row["level"]),
                "level": row["level"],
                "parent": by_code.get(row["parent"]),
            },
        )
        by_code[row["code"]] = region

    categories: dict[str, Any] = {}
    for row in rows("categories.csv"):
        parent = categories.get(row["parent"])
        categories[row["code"]], _ = Category.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "name_en": row["name_en"],
                "parent": parent,
                "level": 1 if parent is None else parent.level + 1,
            },
        )
    for row in rows("brand_types.csv"):
        BrandType.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "name_en": row["name_en"], "position": int(row["position"])},
        )
    for row in rows("tiers.csv"):
        Tier.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "name_en": row["name_en"], "rank": int(row["rank"])},
        )
    for row in rows("source_programmes.csv"):
        SourceProgramme.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "name_en": row["name_en"], "issuer": row["issuer"]},
        )
    sections: dict[str, Any] = {}
    for row in rows("industries_gbt4754.csv"):
        obj, _ = IndustryCode.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "section": sections.get(row["section"])}
        )
        if not row["section"]:
            sections[row["code"]] = obj
