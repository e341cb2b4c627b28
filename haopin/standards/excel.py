"""Rule sets to and from ``.xlsx`` (the office drafts rules in Excel and reviews them there).

Export writes four sheets (细则, 指标, 否决项, 资格条件); import reads the same layout into a
draft, replacing its items all-or-nothing, and reports every bad row with its sheet, row and
column, in Chinese.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal, InvalidOperation
from typing import IO, Any, cast

from django.db import transaction
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from haopin.core import audit
from haopin.core.errors import ValidationFailed
from haopin.registry import uploads
from haopin.standards.models import Criterion, Indicator, RuleSet, VetoItem
from haopin.standards.services import _lock_draft, _require_maintainer

INDICATOR_HEADER = ["编号", "上级编号", "指标名称", "分值", "评分要点"]
VETO_HEADER = ["编号", "否决情形"]
CRITERION_HEADER = ["编号", "资格条件", "自动判定指标", "比较方式", "阈值", "满足其一即可（组）"]
METRIC_BY_LABEL = {label: value for value, label in Criterion.Metric.choices}
OPERATOR_BY_LABEL = {label: value for value, label in Criterion.Operator.choices}
OPERATOR_ALIASES = {">=": "ge", ">": "gt", "<=": "le", "<": "lt", "是": "true"}


def _sheet(
    workbook: Workbook, title: str, header: list[str], rows: list[list[Any]], widths: list[int]
) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(65 + index)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def export(rule_set: RuleSet) -> bytes:
    workbook = Workbook()
    meta = cast(Worksheet, workbook.active)  # a new workbook has one worksheet, active
    meta.title = "细则"
    for key, value in [
        ("名称", rule_set.title),
        ("适用类别", f"{rule_set.category.code} {rule_set.category.name}"),
        ("品牌类型", rule_set.brand_type.name),
        ("版本", rule_set.version),
        ("状态", rule_set.get_status_display()),
        ("合格分数线", float(rule_set.pass_line)),
        ("说明", rule_set.note),
    ]:
        meta.append([key, value])
    meta.column_dimensions["A"].width = 14
    meta.column_dimensions["B"].width = 60
    indicators = list(rule_set.indicators.select_related("parent").order_by("parent_id", "position", "code"))
    ordered = [i for i in indicators if i.parent_id is None]
    ordered = [x for d in ordered for x in [d, *[i for i in indicators if i.parent_id == d.pk]]]
    _sheet(
        workbook,
        "指标",
        INDICATOR_HEADER,
        [
            [i.code, i.parent.code if i.parent else "", i.name, float(i.max_score), i.guidance]
            for i in ordered
        ],
        [10, 10, 30, 8, 70],
    )
    _sheet(workbook, "否决项", VETO_HEADER, [[v.code, v.text] for v in rule_set.veto_items.all()], [10, 90])
    _sheet(
        workbook,
        "资格条件",
        CRITERION_HEADER,
        [
            [
                c.code,
                c.text,
                c.get_metric_display() if c.metric else "",
                c.get_operator_display() if c.operator else "",
                float(c.threshold) if c.threshold is not None else "",
                c.group,
            ]
            for c in rule_set.criteria.all()
        ],
        [10, 60, 26, 10, 12, 16],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decimal(value: Any) -> Decimal | None:
    text = _text(value)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"“{text}”不是数字") from None


def _rows(
    workbook: Any, title: str, header: list[str], errors: list[dict[str, Any]]
) -> list[tuple[int, list[Any]]]:
    if title not in workbook.sheetnames:
        errors.append({"sheet": title, "row": None, "column": "", "message": f"缺少工作表“{title}”。"})
        return []
    sheet = workbook[title]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows or [_text(v) for v in rows[0][: len(header)]] != header:
        errors.append({"sheet": title, "row": 1, "column": "", "message": f"表头应为：{'、'.join(header)}。"})
        return []
    return [
        (number, list(row) + [None] * len(header))
        for number, row in enumerate(rows[1:], start=2)
        if any(_text(v) for v in row)
    ]


def parse(upload: IO[bytes]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read a rule-set workbook; return (items, errors) without touching the database."""
    uploads.check_upload(upload, allowed={uploads.XLSX}, max_mb=5)
    errors: list[dict[str, Any]] = []
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ValidationFailed("无法读取该 Excel 文件，文件可能已损坏。") from exc
    items: dict[str, Any] = {"indicators": [], "veto": [], "criteria": []}

    def bad(sheet: str, row: int, column: str, message: str) -> None:
        errors.append({"sheet": sheet, "row": row, "column": column, "message": message})

    codes: set[str] = set()
    for number, row in _rows(workbook, "指标", INDICATOR_HEADER, errors):
        code, parent, name = _text(row[0]), _text(row[1]), _text(row[2])
        if not code:
            bad("指标", number, "编号", "编号不能为空。")
        elif code in codes:
            bad("指标", number, "编号", f"编号“{code}”重复。")
        codes.add(code)
        if not name:
            bad("指标", number, "指标名称", "指标名称不能为空。")
        try:
            score = _decimal(row[3])
            if score is None or score <= 0:
                raise ValueError("分值应大于 0")
        except ValueError as exc:
            bad("指标", number, "分值", f"{exc}。")
            score = None
        items["indicators"].append(
            {
                "code": code,
                "parent": parent,
                "name": name,
                "max_score": score,
                "guidance": _text(row[4]),
                "position": number,
            }
        )
    dimension_codes = {i["code"] for i in items["indicators"] if not i["parent"]}
    for item in items["indicators"]:
        if item["parent"] and item["parent"] not in dimension_codes:
            bad("指标", item["position"], "上级编号", f"上级编号“{item['parent']}”不是一级指标。")
    for number, row in _rows(workbook, "否决项", VETO_HEADER, errors):
        code, text = _text(row[0]), _text(row[1])
        if not code or not text:
            bad("否决项", number, "编号" if not code else "否决情形", "不能为空。")
        items["veto"].append({"code": code, "text": text, "position": number})
    for number, row in _rows(workbook, "资格条件", CRITERION_HEADER, errors):
        code, text, metric_label, operator_label = (_text(v) for v in row[:4])
        metric = METRIC_BY_LABEL.get(
            metric_label, metric_label if metric_label in Criterion.Metric.values else None
        )
        operator = (
            OPERATOR_BY_LABEL.get(operator_label)
            or OPERATOR_ALIASES.get(operator_label)
            or (operator_label if operator_label in Criterion.Operator.values else None)
        )
        if not code or not text:
            bad("资格条件", number, "编号" if not code else "资格条件", "不能为空。")
        if metric_label and metric is None:
            bad("资格条件", number, "自动判定指标", f"未知的指标“{metric_label}”。")
        if operator_label and operator is None:
            bad("资格条件", number, "比较方式", f"未知的比较方式“{operator_label}”，应为 ≥、>、≤、< 或 是。")
        try:
            threshold = _decimal(row[4])
        except ValueError as exc:
            bad("资格条件", number, "阈值", f"{exc}。")
            threshold = None
        if metric and not operator:
            bad("资格条件", number, "比较方式", "自动判定的条件须填写比较方式。")
        if metric and operator and operator != "true" and threshold is None:
            bad("资格条件", number, "阈值", "自动判定的条件须填写阈值。")
        items["criteria"].append(
            {
                "code": code,
                "text": text,
                "metric": metric or "",
                "operator": operator or "",
                "threshold": threshold,
                "group": _text(row[5]),
                "position": number,
            }
        )
    return items, errors


@transaction.atomic
def ruleset_import(*, actor: Any, rule_set: RuleSet, upload: IO[bytes]) -> RuleSet:
    """Replace a draft's indicators, veto items and criteria with the workbook's, or change nothing."""
    _require_maintainer(actor)
    rule_set = _lock_draft(rule_set)
    items, errors = parse(upload)
    if errors:
        first = errors[0]
        where = f"“{first['sheet']}”第 {first['row']} 行" if first["row"] else f"“{first['sheet']}”"
        raise ValidationFailed(
            f"导入未完成，共 {len(errors)} 处错误；{where}：{first['message']}",
            code="ruleset_import_invalid",
            details={"errors": errors},
        )
    rule_set.indicators.all().delete()
    rule_set.veto_items.all().delete()
    rule_set.criteria.all().delete()
    dimensions: dict[str, Indicator] = {}
    for item in items["indicators"]:
        if not item["parent"]:
            dimensions[item["code"]] = Indicator.objects.create(
                rule_set=rule_set,
                code=item["code"],
                name=item["name"],
                max_score=item["max_score"],
                guidance=item["guidance"],
                position=item["position"],
            )
    Indicator.objects.bulk_create(
        [
            Indicator(
                rule_set=rule_set,
                parent=dimensions[i["parent"]],
                code=i["code"],
                name=i["name"],
                max_score=i["max_score"],
                guidance=i["guidance"],
                position=i["position"],
            )
            for i in items["indicators"]
            if i["parent"]
        ]
    )
    VetoItem.objects.bulk_create([VetoItem(rule_set=rule_set, **v) for v in items["veto"]])
    Criterion.objects.bulk_create([Criterion(rule_set=rule_set, **c) for c in items["criteria"]])
    audit.record(
        "standards.ruleset.imported",
        target=rule_set,
        actor=actor,
        new={
            "indicators": len(items["indicators"]),
            "veto_items": len(items["veto"]),
            "criteria": len(items["criteria"]),
        },
    )
    return rule_set
