"""The office's spreadsheets of the expert review: the scoring sheet of one application and the
ranking per category of a batch (openpyxl in write-only mode, so that a ranking of thousands of
applications streams rather than building a worksheet in memory)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from haopin.core.errors import PermissionDeniedError
from haopin.core.models import Region
from haopin.evaluation import policies, scoring
from haopin.evaluation.models import Application, Batch, BatchRuleSet
from haopin.standards.models import RuleSet

BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
STATUS_LABELS = dict(Application.Status.choices)
RANKING_HEADER = [
    "排名",
    "申报编号",
    "品牌",
    "申报主体",
    "所在城市",
    "综合得分",
    "专家总分标准差",
    "达到合格分数线",
    "在名额内",
    "状态",
    "备注",
]


def _require_office_reader(actor: Any) -> None:
    if not policies.is_office_reader(actor):
        raise PermissionDeniedError("评分表和排名仅供省质量强省办查看。")


def _cell(sheet: WriteOnlyWorksheet, value: Any, *, bold: bool = False, wrap: bool = False) -> Cell:
    cell = WriteOnlyCell(sheet, value=value)
    if bold:
        cell.font = BOLD
    if wrap:
        cell.alignment = WRAP
    if isinstance(value, Decimal):
        exponent = cast(int, value.as_tuple().exponent)  # finite: a stored score or figure
        cell.number_format = "0.00" if exponent <= -2 else "0.0"
    return cell


def _bold_row(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[Cell]:
    return [_cell(sheet, v, bold=True) for v in values]


def _yes_no(value: bool | None, undecided: str = "") -> str:
    if value is None:
        return undecided
    return "是" if value else "否"


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _city_name(application: Application) -> str:
    region = application.enterprise.region
    return cast(Region, region.parent).name if region.level == "county" and region.parent_id else region.name


def scoring_sheet_xlsx(*, actor: Any, application: Application) -> bytes:
    """One application's scoring sheet: every submitted expert's scores and comments per indicator,
    the trimmed mean, the experts' totals with outlier flags, the total and the dispersion."""
    _require_office_reader(actor)
    application = Application.objects.select_related(
        "batch", "brand", "enterprise__region__parent", "rule_set"
    ).get(pk=application.pk)
    sheet_data = scoring.scoring_sheet(application)
    submitted = [e for e in sheet_data.experts if e.submitted]

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("评分表")
    sheet.column_dimensions["A"].width = 8
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 24
    sheet.column_dimensions["D"].width = 7
    for index in range(len(submitted)):
        sheet.column_dimensions[get_column_letter(5 + 2 * index)].width = 8
        sheet.column_dimensions[get_column_letter(6 + 2 * index)].width = 30
    sheet.column_dimensions[get_column_letter(5 + 2 * len(submitted))].width = 12

    sheet.append([_cell(sheet, "好品山东专家评审评分表", bold=True)])
    value: Any  # text in these rows, figures and dates in the summary below
    for label, value in [
        ("批次", application.batch.title),
        ("申报编号", application.number),
        ("品牌", application.brand.name),
        ("申报主体", application.enterprise.name),
        ("所在城市", _city_name(application)),
        ("评价细则", str(application.rule_set)),
    ]:
        sheet.append([_cell(sheet, label, bold=True), _cell(sheet, value)])
    sheet.append([])

    header = ["编号", "一级指标", "指标", "分值"]
    for expert in submitted:
        header += [f"{expert.name} 得分", f"{expert.name} 评语"]
    header.append("去极值平均分" if sheet_data.trimmed else "平均分")
    sheet.append(_bold_row(sheet, header))
    for row in sheet_data.rows:
        values: list[Any] = [
            _cell(sheet, row.code),
            _cell(sheet, row.dimension),
            _cell(sheet, row.name, wrap=True),
            _cell(sheet, row.max_score),
        ]
        for entry in row.cells:
            values += [
                _cell(sheet, entry[0] if entry else None),
                _cell(sheet, entry[1] if entry else "", wrap=True),
            ]
        values.append(_cell(sheet, row.mean))
        sheet.append(values)

    totals: list[Any] = [_cell(sheet, "合计", bold=True), "", "", ""]
    flags: list[Any] = [_cell(sheet, "离群提示", bold=True), "", "", ""]
    for expert in submitted:
        totals += [_cell(sheet, expert.total, bold=True), ""]
        flags += [
            _cell(sheet, f"偏离中位数超过 {scoring.OUTLIER_POINTS} 分" if expert.outlier else "", wrap=True),
            "",
        ]
    totals.append(_cell(sheet, sheet_data.total, bold=True))
    sheet.append(totals)
    sheet.append(flags)
    sheet.append([])
    for label, value in [
        ("综合得分", sheet_data.total),
        ("专家总分标准差", sheet_data.spread),
        ("专家总分中位数", sheet_data.median),
        ("合格分数线", application.rule_set.pass_line),
        ("达到合格分数线", _yes_no(application.passed)),
        ("类别排名", application.rank),
        ("在名额内", _yes_no(application.within_quota, "待裁定" if application.quota_tie else "")),
        (
            "计分规则",
            f"每项指标取提交评分的专家的平均分；{scoring.TRIM_FROM} 人及以上评分时"
            "去掉一个最高分和一个最低分；各项平均分保留两位小数后相加为综合得分；"
            f"专家总分偏离组内中位数超过 {scoring.OUTLIER_POINTS} 分的标为离群。",
        ),
    ]:
        sheet.append([_cell(sheet, label, bold=True), "", "", _cell(sheet, value, wrap=True)])

    panel = workbook.create_sheet("评审组")
    for letter, width in zip("ABCDEF", (16, 30, 10, 18, 12, 10), strict=True):
        panel.column_dimensions[letter].width = width
    panel.append(_bold_row(panel, ["专家", "工作单位", "角色", "状态", "专家总分", "离群"]))
    for expert in sheet_data.experts:
        panel.append(
            [
                expert.name,
                expert.employer,
                expert.role,
                expert.status,
                _cell(panel, expert.total),
                "是" if expert.outlier else "",
            ]
        )
    return _bytes(workbook)


def _sheet_title(rule_set: RuleSet, used: set[str]) -> str:
    # Excel sheet names: at most 31 characters, none of []:*?/\ , unique in the workbook.
    base = re.sub(r"[\[\]:*?/\\]", "", f"{rule_set.category.name}·{rule_set.brand_type.name}")[:28] or "排名"
    title, n = base, 2
    while title in used:
        title, n = f"{base[:26]}({n})", n + 1
    used.add(title)
    return title


def ranking_xlsx(*, actor: Any, batch: Batch, rule_set: RuleSet | None = None) -> bytes:
    """The ranking per category of a batch (one worksheet per rule set, or only ``rule_set``)."""
    _require_office_reader(actor)
    rule_sets = [
        link.rule_set
        for link in BatchRuleSet.objects.filter(batch=batch).select_related(
            "rule_set__category", "rule_set__brand_type"
        )
        if rule_set is None or link.rule_set_id == rule_set.pk
    ]
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for current in rule_sets:
        sheet = workbook.create_sheet(_sheet_title(current, used))
        for letter, width in zip("ABCDEFGHIJK", (6, 16, 18, 30, 10, 10, 14, 14, 10, 12, 30), strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "A3"
        sheet.append(
            [_cell(sheet, f"{batch.title} · {current}（合格分数线 {current.pass_line}）", bold=True)]
        )
        sheet.append(_bold_row(sheet, RANKING_HEADER))
        outliers = scoring.outlier_counts(batch, current)
        rows = scoring.ranking(batch, current).values_list(
            "pk",
            "rank",
            "number",
            "brand__name",
            "enterprise__name",
            "enterprise__region__level",
            "enterprise__region__name",
            "enterprise__region__parent__name",
            "score_total",
            "score_spread",
            "passed",
            "within_quota",
            "quota_tie",
            "status",
        )
        for (
            pk,
            rank,
            number,
            brand,
            owner,
            level,
            region,
            city,
            total,
            spread,
            passed,
            within,
            tie,
            status,
        ) in rows:
            notes = []
            if tie:
                notes.append("名额线同分，待裁定" if within is None else "名额线同分，已裁定")
            if outliers.get(pk):
                notes.append(f"离群评分 {outliers[pk]} 份")
            sheet.append(
                [
                    rank,
                    number,
                    brand,
                    owner,
                    city if level == "county" and city else region,
                    _cell(sheet, total),
                    _cell(sheet, spread),
                    _yes_no(passed),
                    _yes_no(within, "待裁定" if tie else ""),
                    STATUS_LABELS.get(status, status),
                    "；".join(notes),
                ]
            )
    if not rule_sets:
        workbook.create_sheet("排名").append(["本批次没有评价细则。"])
    return _bytes(workbook)
