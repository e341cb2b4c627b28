"""Bulk import of existing brand lists (存量品牌名单批量导入), in two services.

Departments and city bureaus keep their lists (老字号, 地理标志, 省长质量奖, …) in Excel. An
import is a dry run first and a commit second:

- ``import_validate`` reads the uploaded ``.xlsx``, checks every row against the reference data,
  the rest of the file and the registry, stores the file and the report on an ``ImportJob``, and
  writes nothing to the registry;
- ``import_commit`` takes a job whose report had no errors, reads the stored file again,
  validates it against the registry *as it is now*, and writes every row in one transaction, or
  nothing. A compare-and-set on the job's status makes a second commit fail cleanly.

Upserts are keyed by the credit code (enterprises), by (owner, brand name) (brands) and by
(brand, programme) (brand sources). A blank cell means "no information", never "erase": a file
with fewer columns filled in does not wipe what the registry knows, and re-importing the same
file changes nothing and writes no audit events.

Speed (issue 2: 100,000 rows, dry run plus commit, in under 60 s and within 3× of openpyxl's
read): files are read with python-calamine, which reads the 100,000-row benchmark sheet in
2.7 s of CPU where openpyxl's read-only mode takes 30 s (bench/bench_import.py); the template
is written with openpyxl. Validation looks everything up in dicts and sets filled by a handful
of chunked queries (never one per row). The commit inserts in batches with executemany (see the
note on ``core.bulk.bulk_insert`` for why not bulk_create), updates with bulk_update, and appends all audit
events with one ``audit.record_many``. Reading and checking the cells happen outside the write
transaction, so SQLite's write lock is held only while the commit checks the registry and writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import IO, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineError, CalamineWorkbook
from stdnum.cn import uscc as stdnum_uscc

from haopin.core import audit
from haopin.core.bulk import bulk_insert, refresh_statistics
from haopin.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from haopin.core.formatting import cn_datetime
from haopin.core.models import AuditEvent, BrandType, Category, IndustryCode, Region, SourceProgramme, Tier
from haopin.core.policies import ScopeKind, get_visible, scope_of
from haopin.registry import policies, services, uploads
from haopin.registry.models import Brand, BrandSource, Document, Enterprise, ImportJob
from haopin.registry.validation import (
    make_uscc,
    normalise_industry_code,
    normalise_trademarks,
    normalise_uscc,
    validate_phone,
)
from haopin.search import index as search_index
from haopin.search.models import SearchEntry

SHEET = "品牌名单"
HELP_SHEET = "填写说明"
CODES_SHEET = "代码表"

MAX_ROWS = 200_000
# Reports of files that are wrong throughout (a different template, a shifted column) would
# otherwise be larger than the file; the counts stay exact, the stored list stops here.
MAX_STORED_ERRORS = 20_000
MAX_STORED_WARNINGS = 2_000
# A zip bomb is a small upload that expands to gigabytes. Genuine lists expand 5–10× (the
# generated 100,000-row benchmark file: 15 MB → about 120 MB); the sheet is parsed in memory,
# so both the ratio and the absolute size are bounded.
MAX_EXPANSION_RATIO = 100
MAX_EXPANDED_MB = 600
HEADER_SEARCH_ROWS = 10
CHUNK = 900  # ids per IN (...) query: under SQLite's historical 999-parameter limit
BATCH = 2000
# A large import changes the tables' shape enough for the query planner to need new statistics.
STATISTICS_AFTER_ROWS = 5000

# --- columns -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    required: bool = False
    width: int = 14
    hint: str = ""
    example: str = ""
    aliases: tuple[str, ...] = ()
    text: bool = False  # formatted as text in the template: long codes must keep every digit


COLUMNS: list[Col] = [
    # The owner enterprise.
    Col(
        "uscc",
        "统一社会信用代码",
        required=True,
        width=22,
        hint="18 位，含校验位；请保持文本格式，避免 Excel 将其变为科学计数法。",
        example=make_uscc("370102", 1_234_567),
        aliases=("信用代码", "社会信用代码"),
        text=True,
    ),
    Col(
        "name",
        "企业名称",
        required=True,
        width=28,
        hint="与营业执照一致。",
        example="济南泉城食品有限公司",
        aliases=("企业（单位）名称", "单位名称"),
    ),
    Col(
        "region",
        "所在区划代码",
        required=True,
        width=20,
        hint="企业住所所在的县（市、区）：6 位区划代码或名称，如 370102 或 济南市历下区；可从下拉列表选择。",
        example="370102 济南市历下区",
        aliases=("所在区划", "区划代码", "所在县区"),
        text=True,
    ),
    Col("legal_representative", "法定代表人", width=12, example="李明", aliases=("法人代表",)),
    Col("address", "住所", width=30, example="济南市历下区泉城路 100 号", aliases=("地址", "企业地址")),
    Col("founded_on", "成立日期", width=12, hint="日期，如 2010-05-12。", example="2010-05-12"),
    Col(
        "industry_code",
        "行业代码",
        width=10,
        hint="GB/T 4754-2017 门类字母加 2～4 位数字，如 C1431。",
        example="C1431",
        aliases=("国民经济行业代码",),
        text=True,
    ),
    Col("size", "企业规模", width=10, hint="大型、中型、小型或微型。", example="中型"),
    Col("contact_name", "联系人", width=10, example="王芳"),
    Col(
        "contact_phone",
        "联系电话",
        width=16,
        hint="11 位手机号码或带区号的固定电话。",
        example="0531-88881234",
        text=True,
    ),
    # The brand and its source programme.
    Col(
        "brand_name", "品牌名称", required=True, width=18, hint="同一企业的品牌名称不能重复。", example="泉城"
    ),
    Col("brand_name_en", "英文名称", width=18, example="Quancheng"),
    Col(
        "brand_type",
        "品牌类型",
        required=True,
        width=14,
        hint="产品品牌、企业品牌、产业品牌、区域品牌或地理标志品牌。",
        example="产品品牌",
    ),
    Col(
        "category",
        "所属类别代码",
        required=True,
        width=20,
        hint="二级或三级类别的代码或名称，见“代码表”，如 20101。",
        example="20101 加工食品",
        aliases=("所属类别", "类别代码", "行业类别"),
        text=True,
    ),
    Col(
        "brand_region",
        "品牌区划代码",
        width=20,
        hint="仅区域品牌、产业品牌、地理标志品牌填写其覆盖的市或县；其他品牌留空，即为企业所在区划。",
        aliases=("品牌所属区划", "覆盖区划"),
        text=True,
    ),
    Col(
        "tier",
        "品牌层级",
        width=14,
        hint="留空即为培育库品牌；只有省质量强省办可导入其他层级。",
        example="培育库品牌",
    ),
    Col(
        "programme",
        "来源项目",
        width=20,
        hint="如 山东老字号；一个品牌有多个来源时，每个来源填一行，其余各列相同。",
        example="山东老字号",
        aliases=("存量品牌来源", "品牌来源"),
    ),
    Col(
        "certificate_number",
        "证书编号",
        width=16,
        hint="来源项目的证书编号或认定文号。",
        example="SDLZH-2019-0123",
        aliases=("证书/文号", "认定文号"),
        text=True,
    ),
    Col("year", "认定年份", width=10, hint="四位年份，如 2019。", example="2019", aliases=("认定时间",)),
    Col(
        "trademarks",
        "注册商标号",
        width=16,
        hint="多个商标号用顿号或分号隔开。",
        example="1234567",
        aliases=("商标注册号",),
        text=True,
    ),
    Col("description", "品牌简介", width=40, example="始创于清代的传统名吃，选料考究、工艺精细。"),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED = [c.key for c in COLUMNS if c.required]

ENTERPRISE_COLUMNS = {
    "name": "name",
    "region": "region",
    "legal_representative": "legal_representative",
    "address": "address",
    "founded_on": "founded_on",
    "industry_code": "industry_code",
    "size": "size",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
}
# Brand fields by column key → model field name.
BRAND_COLUMNS = {
    "brand_name_en": "name_en",
    "brand_type": "brand_type",
    "category": "category",
    "brand_region": "region",
    "tier": "tier",
    "trademarks": "trademark_numbers",
    "description": "description",
}
ENTERPRISE_ATTRS = {f: (f"{f}_id" if f == "region" else f) for f in ENTERPRISE_COLUMNS.values()}
BRAND_ATTRS = {
    f: (f"{f}_id" if f in {"brand_type", "category", "region", "tier"} else f) for f in BRAND_COLUMNS.values()
}
MAX_LENGTHS = {
    "name": 100,
    "legal_representative": 50,
    "address": 200,
    "contact_name": 50,
    "brand_name": 100,
    "brand_name_en": 150,
    "certificate_number": 60,
}
SIZES = {label: value for value, label in Enterprise.Size.choices} | {
    value: value for value, _ in Enterprise.Size.choices
}
SIZES |= {label[0]: value for value, label in Enterprise.Size.choices}  # 大、中、小、微


def _header_key(text: Any) -> str:
    label = re.sub(r"[\s*＊]", "", str(text or ""))
    return re.sub(r"[（(][^（()）]*[)）]$", "", label)


_HEADERS: dict[str, str] = {}
for _col in COLUMNS:
    for _label in (_col.label, *_col.aliases):
        _HEADERS[_header_key(_label)] = _col.key


# --- reading the file --------------------------------------------------------------------------


@dataclass
class Sheet:
    """The data sheet: where each known column is, and the non-blank rows with their numbers."""

    name: str
    header_row: int
    columns: dict[str, int]
    rows: list[tuple[int, list[Any]]]
    ignored_columns: list[str] = field(default_factory=list)

    def letter(self, key: str) -> str:
        return get_column_letter(self.columns[key] + 1) if key in self.columns else ""


def _malformed(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="import.malformed", details={"file": message})


def read_sheet(upload: IO[bytes]) -> Sheet:
    """Open an ``.xlsx`` and find its data sheet. Anything that is not a readable list in our
    layout (not a workbook, a damaged one, no data sheet, missing columns, no rows, too many rows)
    raises ValidationFailed with one message that tells the uploader what to do."""
    upload.seek(0, io.SEEK_END)
    size = upload.tell()
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            expanded = sum(info.file_size for info in members)
            names = {info.filename for info in members}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _malformed(
            "文件已损坏，无法作为 Excel（.xlsx）文件打开。请用 Excel 打开后另存为 .xlsx 再上传。"
        ) from exc
    if "xl/workbook.xml" not in names:
        raise _malformed("该文件不是 Excel 工作簿（.xlsx）。请使用平台提供的导入模板。")
    if expanded > max(size, 1) * MAX_EXPANSION_RATIO or expanded > MAX_EXPANDED_MB * 1024 * 1024:
        raise _malformed(
            "文件解压后的内容异常庞大，已拒绝处理。请只保留“品牌名单”工作表的数据后重新保存上传。"
        )
    upload.seek(0)
    try:
        workbook = CalamineWorkbook.from_filelike(upload)
        candidates = [n for n in workbook.sheet_names if n.strip() == SHEET]
        candidates += [n for n in workbook.sheet_names if n.strip() not in {SHEET, HELP_SHEET, CODES_SHEET}]
        for name in candidates:
            sheet = workbook.get_sheet_by_name(name)
            if sheet.height > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise _malformed(
                    f"工作表“{name}”有 {sheet.height:,} 行，超过单次导入 {MAX_ROWS:,} 行的上限，请分批导入。"
                )
            found = _locate(name, sheet.to_python(skip_empty_area=False), is_named=name.strip() == SHEET)
            if found is not None:
                return found
    except CalamineError as exc:
        raise _malformed("文件内容已损坏，无法读取。请用 Excel 打开后另存为 .xlsx 再上传。") from exc
    finally:
        upload.seek(0)
    raise _malformed(f"文件中没有“{SHEET}”工作表。请下载导入模板，在“{SHEET}”工作表中填写后上传。")


def _locate(name: str, cells: list[list[Any]], *, is_named: bool) -> Sheet | None:
    """The Sheet if ``cells`` holds our header in its first rows; for the sheet named like ours
    a missing header is an error rather than a reason to look elsewhere."""
    header_index = None
    for index, row in enumerate(cells[:HEADER_SEARCH_ROWS]):
        keys = {_HEADERS.get(_header_key(v)) for v in row if isinstance(v, str)}
        if "uscc" in keys or "brand_name" in keys:
            header_index = index
            break
    if header_index is None:
        if is_named:
            if not any(any(v not in ("", None) for v in row) for row in cells):
                raise _malformed(f"“{SHEET}”工作表是空的：请在第 1 行保留表头，从第 2 行起填写数据。")
            raise _malformed(
                f"“{SHEET}”工作表的前 {HEADER_SEARCH_ROWS} 行中没有表头"
                "（应有“统一社会信用代码”“企业名称”等列）。请使用平台提供的导入模板。"
            )
        return None
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, value in enumerate(cells[header_index]):
        text = str(value).strip() if value not in (None, "") else ""
        if not text:
            continue
        key = _HEADERS.get(_header_key(text))
        if key is None:
            ignored.append(text)
        elif key in columns:
            raise _malformed(
                f"表头中“{COLUMN_BY_KEY[key].label}”列出现了两次"
                f"（第 {get_column_letter(columns[key] + 1)} 列和第 {get_column_letter(index + 1)} 列），"
                "请删除其中一列。"
            )
        else:
            columns[key] = index
    missing = [COLUMN_BY_KEY[k].label for k in REQUIRED if k not in columns]
    if missing:
        raise _malformed(
            f"“{name}”工作表缺少必填列：{'、'.join(missing)}。请使用平台提供的导入模板，不要删除或改名表头。"
        )
    used = sorted(columns.values())
    rows = []
    for index in range(header_index + 1, len(cells)):
        row = cells[index]
        # A cell holding only spaces looks empty in Excel, so it does not make a row.
        if any((v.strip() if isinstance(v, str) else v) not in ("", None) for v in (row[i] for i in used)):
            rows.append((index + 1, row))
    if not rows:
        raise _malformed(f"“{name}”工作表中没有数据：请从表头下一行起填写，每个品牌（或品牌来源）一行。")
    if len(rows) > MAX_ROWS:
        raise _malformed(f"数据共 {len(rows):,} 行，超过单次导入 {MAX_ROWS:,} 行的上限，请分批导入。")
    return Sheet(name, header_index + 1, columns, rows, ignored)


# --- reference data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    id: int
    code: str
    name: str
    level: str = ""
    active: bool = True
    full_name: str = ""

    @property
    def label(self) -> str:
        return self.full_name or self.name


class Codes:
    """The accepted spellings of one reference list: code, name, other names, "code name"."""

    def __init__(self) -> None:
        self.by_code: dict[str, Ref] = {}
        self.by_name: dict[str, list[Ref]] = {}

    def add(self, ref: Ref, *names: str) -> None:
        self.by_code[ref.code.lower()] = ref
        for name in {n for n in names if n}:
            entries = self.by_name.setdefault(name, [])
            if ref not in entries:
                entries.append(ref)

    def find(self, text: str) -> Ref | list[Ref] | None:
        """One Ref, a list of candidates when a name is ambiguous, or None."""
        ref = self.by_code.get(text.lower())
        if ref is not None:
            return ref
        candidates = self.by_name.get(text)
        if candidates:
            return candidates[0] if len(candidates) == 1 else candidates
        # "370102 济南市历下区", as the template's drop-down lists write it
        head = re.match(r"^(\S+)\s+\S", text)
        if head:
            return self.by_code.get(head.group(1).lower())
        return None

    @property
    def refs(self) -> list[Ref]:
        return list(self.by_code.values())


@dataclass
class Reference:
    regions: Codes
    regions_by_id: dict[int, Ref]
    categories: Codes
    categories_by_id: dict[int, Ref]
    brand_types: Codes
    brand_types_by_id: dict[int, Ref]
    tiers: Codes
    tiers_by_id: dict[int, Ref]
    pool: Ref
    programmes: Codes
    programmes_by_id: dict[int, Ref]
    divisions: dict[str, str]

    @classmethod
    def load(cls) -> Reference:
        regions = Codes()
        regions_by_id: dict[int, Ref] = {}
        rows = list(Region.objects.values_list("pk", "code", "name", "level", "active", "parent_id"))
        names = {pk: name for pk, _, name, *_ in rows}
        for pk, code, name, level, active, parent_id in rows:
            full = f"{names[parent_id]}{name}" if level == Region.Level.COUNTY and parent_id else name
            ref = Ref(pk, code, name, level, active, full)
            regions.add(ref, name, full)
            regions_by_id[pk] = ref
        categories = Codes()
        categories_by_id = {}
        for pk, code, name, depth, active in Category.objects.values_list(
            "pk", "code", "name", "level", "active"
        ):
            categories_by_id[pk] = ref = Ref(pk, code, name, str(depth), active)
            categories.add(ref, name)
        brand_types = Codes()
        brand_types_by_id = {}
        for pk, code, name in BrandType.objects.values_list("pk", "code", "name"):
            brand_types_by_id[pk] = ref = Ref(pk, code, name)
            brand_types.add(ref, name, name.removesuffix("品牌"))
        tiers = Codes()
        tiers_by_id = {}
        for pk, code, name in Tier.objects.values_list("pk", "code", "name"):
            ref = Ref(pk, code, name)
            tiers.add(ref, name, name.removesuffix("品牌"))
            tiers_by_id[pk] = ref
        programmes = Codes()
        programmes_by_id = {}
        for pk, code, name, active in SourceProgramme.objects.values_list("pk", "code", "name", "active"):
            ref = Ref(pk, code, name, active=active)
            programmes.add(ref, name)
            programmes_by_id[pk] = ref
        divisions = dict(
            IndustryCode.objects.filter(section__isnull=False).values_list("code", "section__code")
        )
        pool = tiers.by_code["pool"]
        return cls(
            regions,
            regions_by_id,
            categories,
            categories_by_id,
            brand_types,
            brand_types_by_id,
            tiers,
            tiers_by_id,
            pool,
            programmes,
            programmes_by_id,
            divisions,
        )


# --- the report --------------------------------------------------------------------------------


def _counter() -> dict[str, int]:
    return {"new": 0, "updated": 0, "unchanged": 0}


@dataclass
class Plan:
    """What a commit would write; filled by validation, executed by ``_write``."""

    enterprise_creates: list[dict[str, Any]] = field(default_factory=list)
    enterprise_updates: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = field(
        default_factory=list
    )
    brand_creates: list[tuple[str, int | None, dict[str, Any], list[tuple[int, str, int | None]]]] = field(
        default_factory=list
    )
    brand_updates: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    source_creates: list[tuple[dict[str, Any], int, str, int | None]] = field(default_factory=list)
    source_updates: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = field(default_factory=list)


@dataclass
class Report:
    rows: int = 0
    sheet: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    bad_rows: set[int] = field(default_factory=set)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warning_count: int = 0
    enterprises: dict[str, int] = field(default_factory=_counter)
    brands: dict[str, int] = field(default_factory=_counter)
    sources: dict[str, int] = field(default_factory=_counter)
    ignored_columns: list[str] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "sheet": self.sheet,
            "bad_rows": len(self.bad_rows),
            "enterprises": self.enterprises,
            "brands": self.brands,
            "sources": self.sources,
            "warnings": self.warnings,
            "warning_count": self.warning_count,
            "ignored_columns": self.ignored_columns,
        }


class _FieldError(Exception):
    pass


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


_USCC_SHAPE = re.compile(r"^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _date(value: Any, today: dt.date) -> dt.date:
    parsed: dt.date | None = None
    if isinstance(value, dt.datetime):
        parsed = value.date()
    elif isinstance(value, dt.date):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        number = int(value)
        if 19000101 <= number <= 21001231:
            text = str(number)
            value = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        elif 1 <= number < 80_000:  # an Excel serial day number shown without a date format
            parsed = _EXCEL_EPOCH + dt.timedelta(days=number)
    if parsed is None:
        text = _text(value)
        match = _DATE.match(text) or re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
        if match:
            try:
                parsed = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                parsed = None
        if parsed is None:
            raise _FieldError(f"日期“{text}”不正确，应为 2010-05-12 这样的日期。")
    if parsed > today:
        raise _FieldError(f"成立日期 {parsed.isoformat()} 晚于今天。")
    if parsed.year < 1900:
        raise _FieldError(f"成立日期 {parsed.isoformat()} 早于 1900 年，请核对。")
    return parsed


def _year(value: Any, this_year: int) -> int:
    text = _text(value).removesuffix("年")
    if not re.fullmatch(r"\d{4}", text):
        raise _FieldError(f"认定年份“{_text(value)}”不正确，应为四位年份，如 2019。")
    year = int(text)
    if not 1950 <= year <= this_year:
        raise _FieldError(f"认定年份应在 1950 年至 {this_year} 年之间。")
    return year


@dataclass(slots=True)
class ParsedRow:
    number: int
    uscc: str
    enterprise: dict[str, Any]
    brand_name: str
    brand: dict[str, Any]
    programme: int | None
    certificate_number: str
    year: int | None


@dataclass
class _Group:
    first: int
    values: dict[str, Any]
    rows: list[int]
    sources: dict[int | None, tuple[int, str, int | None]] = field(default_factory=dict)
    origin: dict[str, int] = field(default_factory=dict)  # field → the row its value came from


class Validator:
    """Checks one sheet for one importer. ``run`` returns the Report (with the Plan)."""

    def __init__(self, actor: Any, reference: Reference, *, lock: bool = False) -> None:
        self.actor = actor
        self.scope = scope_of(actor)
        self.ref = reference
        self.lock = lock
        self.report = Report()
        self.today = timezone.localdate()
        self.sheet: Sheet | None = None
        self.columns: list[tuple[str, int]] = []  # (key, index) of the columns the file has
        self._groups: tuple[dict[str, _Group], dict[tuple[str, str], _Group]] = ({}, {})
        self._usccs: dict[str, tuple[str, str]] = {}

    # --- messages ---------------------------------------------------------------------------

    def error(self, row: int, key: str, message: str, value: Any = None) -> None:
        report = self.report
        report.error_count += 1
        report.bad_rows.add(row)
        if len(report.errors) < MAX_STORED_ERRORS:
            report.errors.append(self._entry(row, key, message, value))

    def warning(self, row: int, key: str, message: str) -> None:
        report = self.report
        report.warning_count += 1
        if len(report.warnings) < MAX_STORED_WARNINGS:
            report.warnings.append(self._entry(row, key, message, None))

    def _entry(self, row: int, key: str, message: str, value: Any) -> dict[str, Any]:
        assert self.sheet is not None
        letter = self.sheet.letter(key)
        return {
            "row": row,
            "column": COLUMN_BY_KEY[key].label,
            "cell": f"{letter}{row}" if letter else "",
            "value": _text(value)[:100] if value is not None else "",
            "message": message,
        }

    # --- the run ----------------------------------------------------------------------------

    def run(self, sheet: Sheet) -> Report:
        self.prepare(sheet)
        return self.check()

    def prepare(self, sheet: Sheet) -> None:
        """Everything that needs only the file and the reference data: each row's cells, and
        the rows against each other. Runs outside the commit's transaction."""
        self.sheet = sheet
        self.columns = sorted(sheet.columns.items(), key=lambda kv: kv[1])
        report = self.report
        report.rows = len(sheet.rows)
        report.sheet = sheet.name
        report.ignored_columns = sheet.ignored_columns
        if sheet.ignored_columns:
            self.warning(
                sheet.header_row,
                "uscc",
                f"以下列不在模板中，已忽略：{'、'.join(sheet.ignored_columns[:20])}。",
            )
        parsed = [p for p in (self._parse(number, cells) for number, cells in sheet.rows) if p is not None]
        self._groups = self._group(parsed)

    def check(self) -> Report:
        """The rows against the registry (and the importer's scope); fills the report's plan."""
        report = self.report
        enterprises, brands = self._groups
        existing = self._existing(enterprises)
        self._plan(enterprises, brands, *existing)
        report.errors.sort(key=lambda e: (e["row"], _COLUMN_ORDER.get(e["column"], 99)))
        report.warnings.sort(key=lambda e: (e["row"], _COLUMN_ORDER.get(e["column"], 99)))
        return report

    # --- one row ----------------------------------------------------------------------------

    def _parse(self, number: int, cells: Sequence[Any]) -> ParsedRow | None:
        """One row's cells → normalised values, or None (with its errors reported)."""
        errors_before = self.report.error_count
        ref = self.ref
        raw: dict[str, Any] = {}
        text: dict[str, str] = {}
        for key, index in self.columns:
            value = cells[index]
            raw[key] = value
            # Most cells are strings; _text handles numbers, dates and booleans.
            text[key] = value.strip() if value.__class__ is str else _text(value)

        for key in REQUIRED:
            if not text[key]:
                self.error(number, key, f"{COLUMN_BY_KEY[key].label}为必填项，不能为空。")
        for key, limit in MAX_LENGTHS.items():
            if len(text.get(key, "")) > limit:
                length = len(text[key])
                self.error(
                    number, key, f"{COLUMN_BY_KEY[key].label}不能超过 {limit} 个字（当前 {length} 个字）。"
                )

        uscc = ""
        if text["uscc"]:
            value = raw["uscc"]
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.error(
                    number,
                    "uscc",
                    "统一社会信用代码被 Excel 存成了数字，末几位可能已丢失。请将该列设为文本格式后重新填写。",
                    value,
                )
            else:
                uscc = self._uscc(number, text["uscc"])

        enterprise: dict[str, Any] = {}
        for key in ("name", "legal_representative", "address", "contact_name"):
            if text.get(key):
                enterprise[key] = text[key]
        if text["region"]:
            region = self._region(number, "region", text["region"], county=True)
            if region is not None:
                enterprise["region"] = region.id
        if text.get("founded_on"):
            try:
                enterprise["founded_on"] = _date(raw["founded_on"], self.today)
            except _FieldError as exc:
                self.error(number, "founded_on", str(exc), raw["founded_on"])
        value = text.get("industry_code")
        if value:
            try:
                enterprise["industry_code"] = normalise_industry_code(value, ref.divisions)
            except ValidationError as exc:
                self.error(number, "industry_code", exc.messages[0], value)
        value = text.get("size")
        if value:
            size = SIZES.get(value) or SIZES.get(value.lower())
            if size is None:
                self.error(number, "size", f"企业规模“{value}”不正确，应为大型、中型、小型或微型。", value)
            else:
                enterprise["size"] = size
        value = text.get("contact_phone")
        if value:
            try:
                validate_phone(value)
                enterprise["contact_phone"] = value
            except ValidationError as exc:
                self.error(number, "contact_phone", exc.messages[0], value)

        brand: dict[str, Any] = {}
        if text.get("brand_name_en"):
            brand["name_en"] = text["brand_name_en"]
        if text.get("description"):
            brand["description"] = text["description"]
        value = text["brand_type"]
        if value:
            found = ref.brand_types.find(value)
            if isinstance(found, Ref):
                brand["brand_type"] = found.id
            else:
                self.error(
                    number,
                    "brand_type",
                    f"品牌类型“{value}”不正确，应为产品品牌、企业品牌、产业品牌、区域品牌或地理标志品牌。",
                    value,
                )
        value = text["category"]
        if value:
            category = self._category(number, value)
            if category is not None:
                brand["category"] = category.id
        value = text.get("brand_region")
        if value:
            region = self._region(number, "brand_region", value, county=False)
            if region is not None:
                brand["region"] = region.id
        value = text.get("tier")
        if value:
            found = ref.tiers.find(value)
            if isinstance(found, Ref):
                brand["tier"] = found.id
            else:
                names = "、".join(r.name for r in ref.tiers.refs)
                self.error(number, "tier", f"品牌层级“{value}”不正确，应为{names}之一。", value)
        value = text.get("trademarks")
        if value:
            try:
                brand["trademark_numbers"] = normalise_trademarks(value)
            except ValidationError as exc:
                self.error(number, "trademarks", exc.messages[0], value)

        programme = None
        programme_text = text.get("programme")
        if programme_text:
            found = ref.programmes.find(programme_text)
            if not isinstance(found, Ref):
                self.error(
                    number,
                    "programme",
                    f"来源项目“{programme_text}”不存在，请按“代码表”填写。",
                    programme_text,
                )
            elif not found.active:
                self.error(number, "programme", f"来源项目“{found.name}”已停用。", programme_text)
            else:
                programme = found.id
        certificate_number = text.get("certificate_number", "")
        year = None
        if text.get("year"):
            try:
                year = _year(raw["year"], self.today.year)
            except _FieldError as exc:
                self.error(number, "year", str(exc), raw["year"])
        if (certificate_number or text.get("year")) and not programme_text:
            self.error(number, "programme", "填写了证书编号或认定年份，但没有填写来源项目。")

        if self.report.error_count != errors_before:
            return None
        return ParsedRow(
            number, uscc, enterprise, text["brand_name"], brand, programme, certificate_number, year
        )

    def _uscc(self, number: int, text: str) -> str:
        """The normalised credit code, or "" after reporting why it is wrong. A code that is
        already compact is checked with stdnum's check character directly (the full
        ``normalise_uscc`` cleans the string first, which dominates its cost); results are
        remembered because lists repeat an enterprise's code on each of its brands' rows."""
        known = self._usccs.get(text)
        if known is None:
            if _USCC_SHAPE.match(text) and stdnum_uscc.calc_check_digit(text[:17]) == text[17]:
                known = (text, "")
            else:
                try:
                    known = (normalise_uscc(text), "")
                except ValidationError as exc:
                    known = ("", exc.messages[0])
            self._usccs[text] = known
        if known[1]:
            self.error(number, "uscc", known[1], text)
        return known[0]

    def _category(self, number: int, text: str) -> Ref | None:
        found = self.ref.categories.find(text)
        if isinstance(found, list):
            codes = "、".join(c.code for c in found)
            self.error(number, "category", f"类别名称“{text}”对应多个类别（{codes}），请填写类别代码。", text)
        elif found is None:
            self.error(number, "category", f"所属类别“{text}”不存在，请按“代码表”填写类别代码。", text)
        elif found.level == "1":
            self.error(
                number,
                "category",
                f"“{found.name}”是产业门类，请填写其下的具体类别（二级或三级），见“代码表”。",
                text,
            )
        elif not found.active:
            self.error(number, "category", f"类别“{found.code} {found.name}”已停用。", text)
        else:
            return found
        return None

    def _region(self, number: int, key: str, text: str, *, county: bool) -> Ref | None:
        found = self.ref.regions.find(text)
        label = COLUMN_BY_KEY[key].label
        if isinstance(found, list):
            options = "、".join(f"{r.code} {r.label}" for r in found)
            self.error(number, key, f"区划名称“{text}”不唯一（{options}），请填写 6 位区划代码。", text)
            return None
        if found is None:
            self.error(number, key, f"{label}“{text}”不是山东省的行政区划代码或名称。", text)
            return None
        if not found.active:
            self.error(number, key, f"区划“{found.code} {found.label}”已撤销，请填写现行区划。", text)
            return None
        if county and found.level != Region.Level.COUNTY:
            self.error(
                number,
                key,
                f"“{found.code} {found.label}”不是县级区划，请填写企业所在的县（市、区），如 370102。",
                text,
            )
            return None
        if not county and found.level == Region.Level.PROVINCE:
            self.error(number, key, "品牌区划应为市或县（市、区），不能是全省。", text)
            return None
        return found

    # --- across rows ------------------------------------------------------------------------

    def _group(self, rows: list[ParsedRow]) -> tuple[dict[str, _Group], dict[tuple[str, str], _Group]]:
        """Rows by enterprise and by brand; conflicting repeats and duplicate rows are errors.
        (A parsed row's dicts are not used again, so a group takes them over; lists repeat an
        enterprise on each of its brands' rows, and identical repeats skip the field merge.)"""
        enterprises: dict[str, _Group] = {}
        brands: dict[tuple[str, str], _Group] = {}
        for row in rows:
            group = enterprises.get(row.uscc)
            if group is None:
                enterprises[row.uscc] = _Group(row.number, row.enterprise, [row.number])
            else:
                if row.enterprise != group.values:
                    self._merge(
                        group, row, row.enterprise, "企业（统一社会信用代码相同）", ENTERPRISE_KEYS_BY_FIELD
                    )
                group.rows.append(row.number)
            key = (row.uscc, row.brand_name)
            brand = brands.get(key)
            if brand is None:
                brand = brands[key] = _Group(row.number, row.brand, [row.number])
            else:
                if row.brand != brand.values:
                    self._merge(brand, row, row.brand, "品牌", BRAND_KEYS_BY_FIELD)
                brand.rows.append(row.number)
            previous = brand.sources.get(row.programme)
            if previous is not None:
                column = "programme" if row.programme is not None else "brand_name"
                what = "企业、品牌和来源项目" if row.programme is not None else "企业和品牌"
                self.error(row.number, column, f"与第 {previous[0]} 行重复（{what}均相同）。")
            else:
                brand.sources[row.programme] = (row.number, row.certificate_number, row.year)
        return enterprises, brands

    def _merge(
        self, group: _Group, row: ParsedRow, values: dict[str, Any], what: str, keys: dict[str, str]
    ) -> None:
        for name, value in values.items():
            known = group.values.get(name)
            if known is None:
                group.values[name] = value
                group.origin[name] = row.number
            elif known != value:
                key = keys[name]
                first = group.origin.get(name, group.first)
                if key == "name":
                    self.error(
                        row.number,
                        key,
                        f"统一社会信用代码与第 {first} 行相同，但企业名称不同（“{known}”与“{value}”）。",
                        value,
                    )
                else:
                    label = COLUMN_BY_KEY[key].label
                    self.error(
                        row.number,
                        key,
                        f"与第 {first} 行同一{what}的{label}不一致（“{self._shown(name, known)}”）。",
                        self._shown(name, value),
                    )

    def _shown(self, name: str, value: Any) -> str:
        """A parsed value as the uploader wrote it (codes and names, not database ids)."""
        ref = self.ref
        if name == "region":
            region = ref.regions_by_id[value]
            return f"{region.code} {region.label}"
        if name == "category":
            category = ref.categories_by_id[value]
            return f"{category.code} {category.name}"
        if name == "brand_type":
            return ref.brand_types_by_id[value].name
        if name == "tier":
            return ref.tiers_by_id[value].name
        if name == "size":
            return Enterprise.Size(value).label
        if isinstance(value, list):
            return "、".join(value)
        return _text(value)

    # --- against the registry ---------------------------------------------------------------

    def _existing(
        self, enterprises: dict[str, _Group]
    ) -> tuple[
        dict[str, dict[str, Any]], dict[tuple[int, str], dict[str, Any]], dict[int, dict[int, dict[str, Any]]]
    ]:
        ent_fields = ["pk", "uscc", "organisation_id", *ENTERPRISE_ATTRS.values()]
        found_enterprises: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(list(enterprises), CHUNK):
            enterprise_qs = Enterprise.objects.filter(uscc__in=chunk)
            if self.lock:
                enterprise_qs = enterprise_qs.select_for_update()
            for values in enterprise_qs.order_by().values(*ent_fields):
                found_enterprises[values["uscc"]] = values
        brand_fields = ["pk", "owner_id", "name", *BRAND_ATTRS.values()]
        found_brands: dict[tuple[int, str], dict[str, Any]] = {}
        for chunk in _chunks([e["pk"] for e in found_enterprises.values()], CHUNK):
            brand_qs = Brand.objects.filter(owner_id__in=chunk)
            if self.lock:
                brand_qs = brand_qs.select_for_update()
            for values in brand_qs.order_by().values(*brand_fields):
                found_brands[(values["owner_id"], values["name"])] = values
        found_sources: dict[int, dict[int, Any]] = {}
        for chunk in _chunks([b["pk"] for b in found_brands.values()], CHUNK):
            source_qs = BrandSource.objects.filter(brand_id__in=chunk)
            if self.lock:
                source_qs = source_qs.select_for_update()
            for values in source_qs.order_by().values(
                "pk", "brand_id", "programme_id", "certificate_number", "year"
            ):
                found_sources.setdefault(values["brand_id"], {})[values["programme_id"]] = values
        return found_enterprises, found_brands, found_sources

    def _scope_name(self) -> str:
        prefix = self.scope.region_prefix
        for code in (prefix.ljust(6, "0"),):
            ref = self.ref.regions.by_code.get(code)
            if ref is not None:
                return ref.label
        return "本辖区"

    def _plan(
        self,
        enterprises: dict[str, _Group],
        brands: dict[tuple[str, str], _Group],
        found_enterprises: dict[str, dict[str, Any]],
        found_brands: dict[tuple[int, str], dict[str, Any]],
        found_sources: dict[int, dict[int, dict[str, Any]]],
    ) -> None:
        report, plan, scope, ref = self.report, self.report.plan, self.scope, self.ref
        region_code = {pk: r.code for pk, r in ref.regions_by_id.items()}
        # The enterprise each brand will belong to: its region and platform account.
        owner_region: dict[str, int] = {}
        owner_org: dict[str, int | None] = {}
        bad_owner: set[str] = set()

        for uscc, group in enterprises.items():
            values = group.values
            current = found_enterprises.get(uscc)
            if current is None:
                if not policies.enterprise_within_scope(
                    self.actor, region_code=region_code[values["region"]]
                ):
                    for row in group.rows:
                        self.error(
                            row,
                            "region",
                            f"所在区划“{ref.regions_by_id[values['region']].label}”不在您的辖区"
                            f"（{self._scope_name()}）内，不能导入该企业。",
                        )
                    bad_owner.add(uscc)
                    continue
                plan.enterprise_creates.append({"uscc": uscc, **values})
                report.enterprises["new"] += 1
                owner_region[uscc], owner_org[uscc] = values["region"], None
                continue
            attrs = {name: current[attr] for name, attr in ENTERPRISE_ATTRS.items()}
            owner_region[uscc], owner_org[uscc] = attrs["region"], current["organisation_id"]
            if scope.kind == ScopeKind.REGION and not scope.in_region(region_code[attrs["region"]]):
                for row in group.rows:
                    self.error(
                        row,
                        "uscc",
                        f"该企业已在平台登记，所在区划为{ref.regions_by_id[attrs['region']].label}，"
                        "不在您的辖区内，不能导入。",
                    )
                bad_owner.add(uscc)
                continue
            changed = {name: value for name, value in values.items() if attrs[name] != value}
            if changed and scope.kind == ScopeKind.DEPARTMENT:
                labels = "、".join(COLUMN_BY_KEY[ENTERPRISE_KEYS_BY_FIELD[n]].label for n in changed)
                self.warning(
                    group.first,
                    ENTERPRISE_KEYS_BY_FIELD[next(iter(changed))],
                    f"该企业已在平台登记，{labels}与平台记录不一致；省直部门不能修改企业信息，本次保持平台记录不变。",
                )
                changed = {}
            if "region" in changed and not policies.enterprise_within_scope(
                self.actor, region_code=region_code[changed["region"]]
            ):
                self.error(
                    group.first,
                    "region",
                    f"不能把企业迁出您的辖区（{self._scope_name()}）；请由省质量强省办办理。",
                )
                bad_owner.add(uscc)
                continue
            if "name" in changed:
                self.warning(
                    group.first,
                    "name",
                    f"企业名称将由“{attrs['name']}”改为“{changed['name']}”，请确认统一社会信用代码无误。",
                )
            if changed:
                old = {name: attrs[name] for name in changed}
                plan.enterprise_updates.append(({"pk": current["pk"], "name": attrs["name"]}, old, changed))
                report.enterprises["updated"] += 1
                owner_region[uscc] = changed.get("region", attrs["region"])
            else:
                report.enterprises["unchanged"] += 1

        office = scope.kind == ScopeKind.ALL
        for (uscc, name), group in brands.items():
            if uscc in bad_owner:
                continue
            values = group.values
            programmes = {pid for pid in group.sources if pid is not None}
            current_enterprise = found_enterprises.get(uscc)
            current = found_brands.get((current_enterprise["pk"], name)) if current_enterprise else None
            tier = values.get("tier")
            if current is None:
                values.setdefault("tier", ref.pool.id)
                region = values.get("region") or owner_region[uscc]
                if not self._brand_region_ok(group, values, region, owner_region[uscc]):
                    continue
                if not office and values["tier"] != ref.pool.id:
                    self._tier_error(group)
                    continue
                if not policies.brand_within_scope(
                    self.actor,
                    region_code=region_code[region],
                    category_id=values["category"],
                    programme_ids=programmes,
                    owner_organisation_id=owner_org[uscc],
                ):
                    self._scope_error(group, new=True)
                    continue
                brand_values = {"name": name, **values, "region": region}
                sources = [
                    (pid, cert, year) for pid, (_, cert, year) in group.sources.items() if pid is not None
                ]
                owner_pk = current_enterprise["pk"] if current_enterprise else None
                plan.brand_creates.append((uscc, owner_pk, brand_values, sources))
                report.brands["new"] += 1
                report.sources["new"] += len(sources)
                continue

            attrs = {field_name: current[attr] for field_name, attr in BRAND_ATTRS.items()}
            have = found_sources.get(current["pk"], {})
            if not policies.brand_within_scope(
                self.actor,
                region_code=region_code[attrs["region"]],
                category_id=attrs["category"],
                programme_ids=set(have),
                owner_organisation_id=owner_org[uscc],
            ):
                self._scope_error(group, new=False)
                continue
            if tier is not None and tier != attrs["tier"]:
                if not office and tier != ref.pool.id:
                    self._tier_error(group)
                    continue
                if not office:
                    self.warning(
                        group.first,
                        "tier",
                        f"该品牌现为“{ref.tiers_by_id[attrs['tier']].name}”，品牌层级由省质量强省办调整，本次不修改。",
                    )
                    values = {k: v for k, v in values.items() if k != "tier"}
            changed = {k: v for k, v in values.items() if attrs[k] != v}
            if "region" in changed and not self._brand_region_ok(
                group, values, changed["region"], owner_region[uscc]
            ):
                continue
            if (
                {"region", "category"} & set(changed) or programmes - set(have)
            ) and not policies.brand_within_scope(
                self.actor,
                region_code=region_code[changed.get("region", attrs["region"])],
                category_id=changed.get("category", attrs["category"]),
                programme_ids=set(have) | programmes,
                owner_organisation_id=owner_org[uscc],
            ):
                self._scope_error(group, new=True)
                continue
            target = {"pk": current["pk"], "name": name}
            if changed:
                old = {k: attrs[k] for k in changed}
                plan.brand_updates.append((target, old, changed))
                report.brands["updated"] += 1
            else:
                report.brands["unchanged"] += 1
            for pid, (_, cert, year) in group.sources.items():
                if pid is None:
                    continue
                source = have.get(pid)
                if source is None:
                    plan.source_creates.append((target, pid, cert, year))
                    report.sources["new"] += 1
                    continue
                wanted: dict[str, Any] = {}
                if cert and cert != source["certificate_number"]:
                    wanted["certificate_number"] = cert
                if year is not None and year != source["year"]:
                    wanted["year"] = year
                if wanted:
                    old = {k: source[k] for k in wanted}
                    plan.source_updates.append(
                        ({"pk": source["pk"], "brand": target, "programme": pid}, old, wanted)
                    )
                    report.sources["updated"] += 1
                else:
                    report.sources["unchanged"] += 1

    def _brand_region_ok(self, group: _Group, values: dict[str, Any], region: int, owner_region: int) -> bool:
        brand_type = self.ref.brand_types_by_id[values["brand_type"]].code if "brand_type" in values else ""
        if region != owner_region and brand_type and brand_type not in services.AREA_BRAND_TYPES:
            self.error(
                group.first,
                "brand_region",
                "只有区域品牌、产业品牌和地理标志品牌填写品牌区划；其他品牌的区划即企业所在区划，请留空。",
            )
            return False
        return True

    def _tier_error(self, group: _Group) -> None:
        tier = self.ref.tiers_by_id[group.values["tier"]]
        self.error(
            group.first,
            "tier",
            f"只有省质量强省办可以将品牌层级设为“{tier.name}”；导入的品牌请列入{self.ref.pool.name}或留空。",
        )

    def _scope_error(self, group: _Group, *, new: bool) -> None:
        if self.scope.kind == ScopeKind.DEPARTMENT:
            column = "category"
        else:
            column = "brand_region" if "region" in group.values else "region"
        if new:
            message = "该品牌不在您的管辖范围内（所属区划、类别或来源项目），不能导入。"
        else:
            message = "该品牌已在平台登记，但不在您的管辖范围内，不能通过导入修改。"
        for row in group.rows:
            self.error(row, column, message)


ENTERPRISE_KEYS_BY_FIELD = {field_name: key for key, field_name in ENTERPRISE_COLUMNS.items()}
BRAND_KEYS_BY_FIELD = {field_name: key for key, field_name in BRAND_COLUMNS.items()}
_COLUMN_ORDER = {c.label: i for i, c in enumerate(COLUMNS)}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def validate(actor: Any, sheet: Sheet, *, lock: bool = False) -> Report:
    """Check ``sheet`` for ``actor`` against the registry; writes nothing."""
    return Validator(actor, Reference.load(), lock=lock).run(sheet)


# --- writing -----------------------------------------------------------------------------------
#
def _entry(action: str, model: Any, pk: int, label: str, *, old: Any = None, new: Any = None) -> audit.Entry:
    """``audit.entry_for`` without building a model instance per event (145,000 of them for
    the benchmark file)."""
    return audit.Entry(action, model._meta.label_lower, str(pk), label[:200], old, new)


def _snapshotter(model: Any, names: list[str]) -> Any:
    """``audit.snapshot`` of a new row (a dict by field name): the same keys, foreign keys as
    ids, the model's default for a value the row does not set."""
    defaults = {name: model._meta.get_field(name).get_default() for name in names}

    def snapshot(row: dict[str, Any]) -> dict[str, Any]:
        return {name: row.get(name, default) for name, default in defaults.items()}

    return snapshot


def _write(plan: Plan, ref: Reference) -> list[audit.Entry]:
    """Execute ``plan``; return the audit entries, in order."""
    now = timezone.now()
    entries: list[audit.Entry] = []
    programme_code = {pk: r.code for pk, r in ref.programmes_by_id.items()}

    enterprise_rows = plan.enterprise_creates
    bulk_insert(Enterprise, enterprise_rows)
    owner_pk: dict[str, int] = {}
    for chunk in _chunks([row["uscc"] for row in enterprise_rows], CHUNK):
        owner_pk.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    snapshot = _snapshotter(Enterprise, ["uscc", *services.ENTERPRISE_FIELDS])
    for row in enterprise_rows:
        entries.append(
            _entry(
                "registry.enterprise.created",
                Enterprise,
                owner_pk[row["uscc"]],
                row["name"],
                new=snapshot(row),
            )
        )
    entries.extend(_bulk_update(Enterprise, plan.enterprise_updates, ENTERPRISE_ATTRS, now))

    brand_rows = []
    for uscc, existing_owner, values, _ in plan.brand_creates:
        brand_rows.append({**values, "owner": existing_owner or owner_pk[uscc]})
    bulk_insert(Brand, brand_rows)
    brand_pk: dict[tuple[int, str], int] = {}
    for chunk in _chunks(sorted({row["owner"] for row in brand_rows}), CHUNK):
        for owner, name, pk in Brand.objects.filter(owner_id__in=chunk).values_list("owner_id", "name", "pk"):
            brand_pk[(owner, name)] = pk
    snapshot = _snapshotter(Brand, ["owner", *services.BRAND_FIELDS, "status"])
    source_rows = []
    for row, (_, _, _, planned_sources) in zip(brand_rows, plan.brand_creates, strict=True):
        pk = brand_pk[(row["owner"], row["name"])]
        new = snapshot(row)
        if planned_sources:
            new["sources"] = [
                {"programme": programme_code[pid], "certificate_number": cert, "year": year}
                for pid, cert, year in planned_sources
            ]
        entries.append(_entry("registry.brand.created", Brand, pk, row["name"], new=new))
        for pid, cert, year in planned_sources:
            source_rows.append({"brand": pk, "programme": pid, "certificate_number": cert, "year": year})
    entries.extend(_bulk_update(Brand, plan.brand_updates, BRAND_ATTRS, now))

    for target, pid, cert, year in plan.source_creates:
        source_rows.append(
            {"brand": target["pk"], "programme": pid, "certificate_number": cert, "year": year}
        )
        entries.append(
            _entry(
                "registry.brand.source_set",
                Brand,
                target["pk"],
                target["name"],
                new={"programme": programme_code[pid], "certificate_number": cert, "year": year},
            )
        )
    bulk_insert(BrandSource, source_rows)
    updates = sorted(plan.source_updates, key=lambda u: sorted(u[2]))
    for fields, group in groupby(updates, key=lambda u: sorted(u[2])):
        objects = []
        for target, old, new in group:
            objects.append(BrandSource(pk=target["pk"], **new))
            entries.append(
                _entry(
                    "registry.brand.source_set",
                    Brand,
                    target["brand"]["pk"],
                    target["brand"]["name"],
                    old=old,
                    new={"programme": programme_code[target["programme"]], **new},
                )
            )
        BrandSource.objects.bulk_update(objects, fields=fields, batch_size=BATCH)
    _index(
        plan,
        created_enterprises=list(owner_pk.values()),
        created_brands=[brand_pk[(row["owner"], row["name"])] for row in brand_rows],
    )
    return entries


def _index(plan: Plan, *, created_enterprises: list[int], created_brands: list[int]) -> None:
    """Keep the search index in step, in bulk: new records once each, changed ones when a
    searched field changed (a renamed enterprise's existing brands too)."""
    search_index.index_objects("registry.enterprise", created_enterprises, cascade=False)
    renamed = [target["pk"] for target, _, new in plan.enterprise_updates if "name" in new]
    search_index.index_objects("registry.enterprise", renamed, changed={"name"})
    representatives = [
        t["pk"]
        for t, _, new in plan.enterprise_updates
        if "legal_representative" in new and "name" not in new
    ]
    search_index.index_objects("registry.enterprise", representatives, cascade=False)
    search_index.index_objects("registry.brand", created_brands, cascade=False)
    search_index.index_objects(
        "registry.brand", [t["pk"] for t, _, new in plan.brand_updates if "name_en" in new], cascade=False
    )


def _bulk_update(
    model: Any,
    updates: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]],
    attrs: dict[str, str],
    now: dt.datetime,
) -> list[audit.Entry]:
    """Update rows in groups that change the same fields (bulk_update writes every listed field
    of every object, so objects must not be mixed with others that change fewer)."""
    action = f"registry.{model._meta.model_name}.updated"
    entries = []
    ordered = sorted(updates, key=lambda u: sorted(u[2]))
    for names, group in groupby(ordered, key=lambda u: sorted(u[2])):
        objects = []
        for target, old, new in group:
            obj = model(pk=target["pk"], name=target["name"], updated_at=now)
            for name, value in new.items():
                setattr(obj, attrs[name], value)
            objects.append(obj)
            entries.append(audit.entry_for(action, obj, old=old, new=new))
        model.objects.bulk_update(
            objects, fields=[attrs[n] for n in names] + ["updated_at"], batch_size=BATCH
        )
    return entries


# --- services ----------------------------------------------------------------------------------


def _check_can_import(actor: Any) -> None:
    if not policies.can_import(actor):
        raise PermissionDeniedError(
            "您无权批量导入：批量导入仅对省质量强省办、省直部门和市县市场监管局的经办人员开放。"
        )


def import_validate(*, actor: Any, upload: IO[bytes], name: str) -> ImportJob:
    """Dry run: check ``upload`` and store it with its report as an ImportJob.

    Writes the document and the job (and their audit events), nothing in the registry. A file
    that cannot be read as a list raises ValidationFailed and stores nothing; a readable file
    with bad rows gives a job with status "invalid" and every error.
    """
    _check_can_import(actor)
    uploads.check_upload(upload, allowed={uploads.XLSX}, max_mb=settings.MAX_IMPORT_MB)
    sheet = read_sheet(upload)
    report = validate(actor, sheet)
    with transaction.atomic():
        upload.seek(0)
        document = services.document_upload(
            actor=actor, upload=upload, name=name, purpose=Document.Purpose.IMPORT, title="批量导入文件"
        )
        job = ImportJob.objects.create(
            organisation_id=scope_of(actor).organisation_id,
            created_by=actor if getattr(actor, "pk", None) else None,
            document=document,
            status=ImportJob.Status.VALID if report.ok else ImportJob.Status.INVALID,
            row_count=report.rows,
            error_count=report.error_count,
            errors=report.errors,
            summary=report.summary(),
        )
        audit.record(
            "registry.import.validated",
            target=job,
            actor=actor,
            new={"document": document.original_name, "status": job.status, **_figures(report)},
        )
    return job


def _figures(report: Report) -> dict[str, Any]:
    return {
        "rows": report.rows,
        "errors": report.error_count,
        "warnings": report.warning_count,
        "enterprises": report.enterprises,
        "brands": report.brands,
        "sources": report.sources,
    }


class _StaleReport(Exception):
    def __init__(self, report: Report):
        self.report = report


def import_commit(*, actor: Any, job: ImportJob) -> ImportJob:
    """Write a validated import in one transaction: every row, or nothing.

    The job's status moves from "valid" to "committed" by compare-and-set inside the same
    transaction, so of two people pressing commit at once one writes and the other is told it
    has been done; a failure anywhere (a row that became invalid, a brand or credit code
    registered by someone else in the meantime) rolls back the status with the data.
    """
    _check_can_import(actor)
    job = cast(ImportJob, get_visible(policies.imports_for_user(actor).select_related("document"), pk=job.pk))
    _refuse_unless_valid(job)
    reference = Reference.load()
    validator = Validator(actor, reference, lock=True)
    # Reading and checking the cells needs no database: do it before taking the write lock.
    validator.prepare(_stored_sheet(job))
    try:
        with transaction.atomic():
            moved = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.VALID).update(
                status=ImportJob.Status.COMMITTED, committed_at=timezone.now()
            )
            if moved != 1:
                _refuse_unless_valid(ImportJob.objects.get(pk=job.pk))
                raise ConflictError("该导入的状态已改变，请刷新页面。", code="import.state_changed")
            report = validator.check()
            if not report.ok:
                raise _StaleReport(report)
            entries = _write(report.plan, reference)
            job.refresh_from_db()
            job.summary = report.summary()
            job.errors = []
            job.error_count = 0
            job.save(update_fields=["summary", "errors", "error_count"])
            entries.append(
                audit.entry_for(
                    "registry.import.committed",
                    job,
                    old={"status": ImportJob.Status.VALID},
                    new={"status": job.status, "document": job.document.original_name, **_figures(report)},
                )
            )
            audit.record_many(entries, actor=actor)
    except _StaleReport as stale:
        report = stale.report
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.VALID).update(
                status=ImportJob.Status.INVALID,
                errors=report.errors,
                error_count=report.error_count,
                summary=report.summary(),
            )
        raise ValidationFailed(
            f"平台数据在校验后发生了变化，重新校验发现 {report.error_count} 处错误，未写入任何数据。"
            "请查看校验报告，修改后重新上传。",
            code="import.stale",
        ) from None
    except IntegrityError as exc:
        raise ConflictError(
            "导入时发现有企业或品牌刚刚被他人登记，为保证数据一致，本次导入未写入任何数据。请重新提交。",
            code="import.conflict",
        ) from exc
    if job.row_count >= STATISTICS_AFTER_ROWS:
        refresh_statistics(Enterprise, Brand, BrandSource, AuditEvent, SearchEntry)
    return job


def _refuse_unless_valid(job: ImportJob) -> None:
    if job.status == ImportJob.Status.COMMITTED:
        when = cn_datetime(job.committed_at) if job.committed_at else ""
        raise ConflictError(
            f"该文件已于 {when} 导入，不能重复提交。" if when else "该文件已导入，不能重复提交。",
            code="import.already_committed",
        )
    if job.status != ImportJob.Status.VALID:
        raise ConflictError("该文件校验未通过，不能导入。请按校验报告修改后重新上传。", code="import.invalid")


def _stored_sheet(job: ImportJob) -> Sheet:
    """The job's file as it was validated: the checksum proves it was not replaced on disk."""
    document = job.document
    try:
        with document.file.open("rb") as handle:
            content = handle.read()
    except OSError as exc:
        raise NotFoundError("导入文件已不存在，请重新上传。", code="import.file_missing") from exc
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise ConflictError("导入文件与校验时不一致（校验和不符），请重新上传。", code="import.file_changed")
    return read_sheet(io.BytesIO(content))


# --- the template and the error list -----------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="B3202C")
OPTIONAL_FILL = PatternFill("solid", fgColor="F0F2F5")


def build_template(actor: Any) -> bytes:
    """The import template: the data sheet with drop-downs, the instructions, the code lists.

    Drop-downs help rather than restrict (codes typed by hand are accepted too), and the region
    list is limited to the importer's own region when they are a city or county bureau.
    """
    ref = Reference.load()
    scope = scope_of(actor)
    counties = sorted(
        (r for r in ref.regions.refs if r.level == Region.Level.COUNTY and r.active), key=lambda r: r.code
    )
    areas = sorted(
        (r for r in ref.regions.refs if r.level != Region.Level.PROVINCE and r.active), key=lambda r: r.code
    )
    if scope.kind == ScopeKind.REGION:
        counties = [r for r in counties if scope.in_region(r.code)]
        areas = [r for r in areas if scope.in_region(r.code)]
    categories = sorted((r for r in ref.categories.refs if r.level != "1" and r.active), key=lambda r: r.code)
    lists: list[tuple[str, list[str]]] = [
        ("企业所在区划", [f"{r.code} {r.label}" for r in counties]),
        ("品牌区划", [f"{r.code} {r.label}" for r in areas]),
        ("所属类别", [f"{r.code} {r.name}" for r in categories]),
        ("品牌类型", [r.name for r in sorted(ref.brand_types.refs, key=lambda r: r.id)]),
        ("品牌层级", [r.name for r in sorted(ref.tiers.refs, key=lambda r: r.id)]),
        ("来源项目", [r.name for r in sorted(ref.programmes.refs, key=lambda r: r.code) if r.active]),
        ("企业规模", [label for _, label in Enterprise.Size.choices]),
    ]

    workbook = Workbook()
    data = workbook.worksheets[0]
    data.title = SHEET
    bold_white = Font(bold=True, color="FFFFFF")
    for index, col in enumerate(COLUMNS, start=1):
        cell = data.cell(row=1, column=index, value=col.label)
        cell.font = bold_white if col.required else Font(bold=True)
        cell.fill = HEADER_FILL if col.required else OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        note = ("必填。" if col.required else "选填。") + col.hint
        cell.comment = Comment(note, "好品山东")
        letter = get_column_letter(index)
        data.column_dimensions[letter].width = col.width
        if col.text:
            data.column_dimensions[letter].number_format = "@"
    data.freeze_panes = "A2"
    data.row_dimensions[1].height = 22

    codes = workbook.create_sheet(CODES_SHEET)
    for index, (title, values) in enumerate(lists, start=1):
        letter = get_column_letter(index)
        codes.cell(row=1, column=index, value=title).font = Font(bold=True)
        for offset, value in enumerate(values, start=2):
            codes.cell(row=offset, column=index, value=value)
        codes.column_dimensions[letter].width = 26
    codes.freeze_panes = "A2"

    ranges = {
        "region": 1,
        "brand_region": 2,
        "category": 3,
        "brand_type": 4,
        "tier": 5,
        "programme": 6,
        "size": 7,
    }
    positions = {c.key: i for i, c in enumerate(COLUMNS, start=1)}
    for key, list_index in ranges.items():
        values = lists[list_index - 1][1]
        if not values:
            continue
        source = get_column_letter(list_index)
        validation = DataValidation(
            type="list",
            formula1=f"'{CODES_SHEET}'!${source}$2:${source}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=False,  # a typed code is fine too; the import checks every value
        )
        validation.promptTitle = COLUMN_BY_KEY[key].label
        validation.prompt = COLUMN_BY_KEY[key].hint[:250]
        validation.showInputMessage = True
        letter = get_column_letter(positions[key])
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        data.add_data_validation(validation)
    year = DataValidation(
        type="whole", operator="between", formula1="1950", formula2="2100", allow_blank=True
    )
    year.error = "请填写四位年份，如 2019。"
    year.errorTitle = "认定年份"
    letter = get_column_letter(positions["year"])
    year.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    data.add_data_validation(year)

    help_sheet = workbook.create_sheet(HELP_SHEET, 1)
    _write_help(help_sheet)

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_help(sheet: Any) -> None:
    lines = [
        "好品山东 存量品牌名单导入说明",
        "",
        "1. 在“品牌名单”工作表中填写，每个品牌一行；一个品牌有多个来源项目"
        "（如既是山东老字号又是地理标志产品）时，每个来源填一行，企业和品牌各列保持一致。",
        "2. 第 1 行是表头，请勿删除或改名；红色表头为必填列。可以删除不需要的选填列，也可以调整列的顺序。",
        "3. 区划、类别、品牌类型、品牌层级、来源项目、企业规模可从下拉列表选择，"
        "也可以直接填写代码或名称，对照“代码表”。",
        "4. 统一社会信用代码、区划代码、类别代码请保持文本格式，避免 Excel 把代码改成数字或科学计数法。",
        "5. 企业按统一社会信用代码、品牌按“企业 + 品牌名称”识别：平台已有的记录会更新，没有的会新增；"
        "留空的单元格不会清除平台已有的信息。",
        "6. 省直部门可以新增品牌的所属企业，但不能修改平台上已登记企业的信息；"
        "市、县市场监管局只能导入本辖区的企业和品牌。",
        "7. 导入的新品牌列入培育库；其他品牌层级由省质量强省办根据评价结果调整。",
        "8. 上传后平台先做校验（不写入任何数据），列出每一处错误的行号、列和原因；全部改正后方可确认导入。"
        "确认导入时全部写入或全部不写入。",
        "9. 同一文件重复导入不会产生重复数据。",
        "",
        "各列说明",
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["列名", "是否必填", "填写说明", "示例"])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.fill = OPTIONAL_FILL
    for col in COLUMNS:
        sheet.append([col.label, "必填" if col.required else "选填", col.hint, col.example])
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 80
    sheet.column_dimensions["D"].width = 28
    for row in sheet.iter_rows(min_row=header_row + 1):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")


def errors_workbook(job: ImportJob) -> bytes:
    """The job's errors (and warnings) as an .xlsx, one line each, for fixing the file."""
    workbook = Workbook(write_only=True)
    for title, entries in (("错误明细", job.errors), ("提示", job.summary.get("warnings", []))):
        sheet = workbook.create_sheet(title)
        for letter, width in zip("ABCDE", (8, 18, 10, 30, 80), strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.append(["行号", "列", "单元格", "填写内容", "说明"])
        for entry in entries:
            sheet.append([entry["row"], entry["column"], entry["cell"], entry["value"], entry["message"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_error_summary(job: ImportJob) -> str:
    """One line for messages and the command line."""
    summary = job.summary or {}
    if job.error_count:
        return (
            f"校验未通过：{job.error_count:,} 处错误，涉及 {summary.get('bad_rows', 0):,} 行"
            f"（共 {job.row_count:,} 行数据）。"
        )
    return f"校验通过：共 {job.row_count:,} 行数据。"
