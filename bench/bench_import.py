"""Bulk import of a 100,000-row brand list: dry run plus commit, against openpyxl's own read.

Issue 2 asks for the whole import (dry run plus commit) of a 100,000-row ``.xlsx`` on SQLite in
under 60 s, and within 3× of the time openpyxl alone needs to read the file, measured in the
same run. Run it against a fresh data directory (the database is migrated first)::

    HAOPIN_DATA_DIR=$(mktemp -d) python -m bench.bench_import

The file is generated here: enterprises in every county of Shandong with valid credit codes,
one to three brands each, some brands with two source programmes, realistic dates, industry
codes, phone numbers and trademark numbers. Each run adds new enterprises (credit codes continue
after those already in the database), so it can be repeated on the same directory.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path

from bench.harness import Result, once_seconds

ROWS = 100_000
SEED = 20220801


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haopin.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = "明华建国志强秀英丽娟海涛晓东俊杰静敏红霞玉兰立新伟芳军平德胜永庆春生文博宏宇"
TRADE_WORDS = [
    "鲁华",
    "齐鲁",
    "泰山",
    "黄河",
    "泉城",
    "海岱",
    "琅琊",
    "蓬莱",
    "崂山",
    "沂蒙",
    "渤海",
    "东岳",
    "孔府",
    "银座",
    "三联",
    "金叶",
    "绿源",
    "瑞丰",
    "恒信",
    "福润",
    "康宁",
    "鼎盛",
    "华宇",
    "东方",
    "万通",
    "宏达",
    "佳和",
    "丰源",
    "润田",
    "博远",
    "正大",
    "同泰",
    "永盛",
    "兴隆",
    "嘉禾",
    "安泰",
    "信诚",
    "德润",
    "长青",
    "新元",
]
INDUSTRIES = [
    ("食品", "C14", "20101"),
    ("酿酒", "C15", "20102"),
    ("饮料", "C15", "20103"),
    ("乳业", "C14", "20104"),
    ("纺织", "C17", "20201"),
    ("服饰", "C18", "20202"),
    ("家具", "C21", "20301"),
    ("电器", "C38", "20302"),
    ("化工", "C26", "20401"),
    ("新材料", "C30", "20402"),
    ("制药", "C27", "20501"),
    ("医疗器械", "C35", "20502"),
    ("重工", "C35", "20601"),
    ("农机", "C35", "20602"),
    ("机械", "C34", "20603"),
    ("汽车", "C36", "20701"),
    ("轮胎", "C29", "20703"),
    ("电子", "C39", "20801"),
    ("软件", "I65", "20803"),
    ("钢铁", "C31", "20901"),
    ("建材", "C30", "20903"),
    ("建工", "E47", "21001"),
    ("茶业", "A01", "10501"),
    ("果业", "A01", "10201"),
    ("粮油", "C13", "10101"),
    ("水产", "A04", "10401"),
    ("旅游", "N78", "30101"),
    ("物流", "G54", "30301"),
    ("商贸", "F52", "30201"),
    ("餐饮", "H62", "30202"),
]
BRAND_WORDS = [
    "金",
    "银",
    "福",
    "寿",
    "康",
    "乐",
    "鑫",
    "瑞",
    "祥",
    "和",
    "美",
    "丰",
    "盛",
    "泰",
    "安",
    "宁",
    "华",
    "兴",
    "隆",
    "昌",
    "源",
    "泉",
    "山",
    "海",
    "岳",
    "鲁",
    "齐",
    "雅",
    "韵",
    "香",
]
PROGRAMMES = [
    "山东老字号",
    "中华老字号",
    "泰山品质认证",
    "专精特新“小巨人”企业",
    "制造业单项冠军",
    "驰名商标",
]
AREA_PROGRAMMES = ["农产品地理标志", "农产品区域公用品牌", "地理标志产品"]
SIZES = ["大型", "中型", "中型", "小型", "小型", "小型", "微型"]
STREETS = [
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "和平路",
    "泉城路",
    "经十路",
    "香港中路",
    "滨河路",
    "黄河路",
    "工业园路",
    "开发区大道",
]


def write_sample(path: Path, rows: int = ROWS, *, serial_start: int = 1, seed: int = SEED) -> int:
    """Write a valid import file of ``rows`` data rows; returns the number of enterprises."""
    from openpyxl import Workbook

    from haopin.core.models import Region
    from haopin.registry.imports import COLUMNS, SHEET
    from haopin.registry.validation import make_uscc

    rng = random.Random(seed)
    counties = list(
        Region.objects.filter(level=Region.Level.COUNTY, active=True)
        .select_related("parent")
        .values_list("code", "name", "parent__name")
    )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    sheet.append([c.label for c in COLUMNS])
    today = dt.date.today()
    written = 0
    serial = serial_start
    while written < rows:
        code, county, city = rng.choice(counties)
        trade = rng.choice(TRADE_WORDS) + rng.choice(BRAND_WORDS)
        industry, division, category = rng.choice(INDUSTRIES)
        uscc = make_uscc(code, serial)
        form = rng.choice(["有限公司", "股份有限公司", "集团有限公司"])
        name = f"{city.removesuffix('市')}{trade}{industry}{form}"
        founded = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange((today - dt.date(1950, 1, 1)).days))
        if rng.random() < 0.5:
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        else:
            phone = f"0{rng.randrange(530, 546)}-{rng.randrange(2, 9)}{rng.randrange(10**6):06d}"
        enterprise = [
            uscc,
            name,
            f"{code} {city}{county}",
            rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", rng.choice(GIVEN)]),
            f"{city}{county}{rng.choice(STREETS)}{rng.randrange(1, 999)}号",
            founded,
            f"{division}{rng.randrange(10, 99)}",
            rng.choice(SIZES),
            rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            phone,
        ]
        serial += 1
        brand_count = rng.choices([1, 2, 3], weights=[70, 25, 5])[0]
        names: set[str] = set()
        for _ in range(brand_count):
            brand = trade if not names else trade[0] + rng.choice(BRAND_WORDS) + rng.choice(BRAND_WORDS)
            while brand in names:
                brand += rng.choice(BRAND_WORDS)
            names.add(brand)
            area = category.startswith("1") and rng.random() < 0.3
            brand_type = (
                rng.choice(["地理标志品牌", "区域品牌"]) if area else rng.choice(["产品品牌", "企业品牌"])
            )
            trademark = str(rng.randrange(10**6, 10**8))
            programmes = rng.sample(
                AREA_PROGRAMMES if area else PROGRAMMES, k=rng.choices([1, 2], [80, 20])[0]
            )
            for programme in programmes:
                year = rng.randrange(2006, today.year)
                sheet.append(
                    [
                        *enterprise,
                        brand,
                        "",
                        brand_type,
                        category,
                        code if area else "",
                        "培育库品牌",
                        programme,
                        f"SD{year}-{rng.randrange(10**5):05d}",
                        year,
                        trademark,
                        f"{brand}，{city}{county}{industry}知名品牌，创立于{founded.year}年，产品远销国内外。",
                    ]
                )
                written += 1
                if written >= rows:
                    break
            if written >= rows:
                break
    workbook.save(path)
    return serial - serial_start


def openpyxl_read(path: Path) -> int:
    """The baseline: openpyxl alone, read-only mode, iterating every row's values."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    count = 0
    for _row in workbook["品牌名单"].iter_rows(values_only=True):
        count += 1
    workbook.close()
    return count


def calamine_read(path: Path) -> int:
    from haopin.registry.imports import read_sheet

    with path.open("rb") as handle:
        return len(read_sheet(handle).rows)


def _actor():
    from haopin.accounts.models import User

    # A platform admin: the office's scope (every region, category and tier).
    user = User.objects.filter(username="bench-import").first()
    if user is None:
        user = User.objects.create_superuser("bench-import", password=None, full_name="导入基准")
    return user


def run() -> list[Result]:
    _setup()
    from haopin.registry.imports import import_commit, import_validate
    from haopin.registry.models import Brand, Enterprise, ImportJob

    actor = _actor()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "brands-100k.xlsx"
        enterprises_before = Enterprise.objects.count()
        brands_before = Brand.objects.count()
        write_sample(path, ROWS, serial_start=enterprises_before + 1)
        size_mb = path.stat().st_size / 1024 / 1024

        baseline, rows, baseline_cpu = _timed(lambda: openpyxl_read(path))
        assert rows == ROWS + 1, rows
        calamine, _, calamine_cpu = _timed(lambda: calamine_read(path))

        def dry_run() -> ImportJob:
            with path.open("rb") as handle:
                return import_validate(actor=actor, upload=handle, name=path.name)

        validate_seconds, job, validate_cpu = _timed(dry_run)
        if job.status != ImportJob.Status.VALID:
            raise SystemExit(f"the generated file did not validate: {job.errors[:5]}")
        commit_seconds, job, commit_cpu = _timed(lambda: import_commit(actor=actor, job=job))
        created_enterprises = Enterprise.objects.count() - enterprises_before
        created_brands = Brand.objects.count() - brands_before

    base = {"baseline_name": "openpyxl read", "baseline_seconds": baseline}
    note = f"{ROWS:,} rows, {size_mb:.1f} MB, {created_enterprises:,} enterprises, {created_brands:,} brands"
    total_cpu = validate_cpu + commit_cpu
    results.append(
        Result("import: openpyxl read-only read (baseline)", baseline, note=f"cpu {baseline_cpu:.1f} s")
    )
    results.append(
        Result(
            "import: python-calamine read + locate sheet", calamine, note=f"cpu {calamine_cpu:.1f} s", **base
        )
    )
    results.append(
        Result(
            "import: dry run (import_validate)", validate_seconds, note=f"cpu {validate_cpu:.1f} s", **base
        )
    )
    results.append(
        Result("import: commit (import_commit)", commit_seconds, note=f"cpu {commit_cpu:.1f} s", **base)
    )
    results.append(
        Result(
            "import 100k rows: dry run + commit",
            validate_seconds + commit_seconds,
            limit_seconds=60,
            limit_ratio=3,
            note=f"{note}; cpu {total_cpu:.1f} s = {total_cpu / baseline_cpu:.2f} × openpyxl's cpu",
            extra={"cpu_seconds": total_cpu, "baseline_cpu_seconds": baseline_cpu},
            **base,
        )
    )
    return results


def _timed(fn):
    """Wall time (what the floor is about) and this process's CPU time, which tells how much
    of the wall time went to waiting for a busy machine."""
    cpu = time.process_time()
    seconds, value = once_seconds(fn)
    return seconds, value, time.process_time() - cpu


def main() -> None:
    for result in run():
        print(result.line())


if __name__ == "__main__":
    main()
