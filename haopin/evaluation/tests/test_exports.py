"""The office's spreadsheets: a scoring sheet per application and the ranking per category."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from haopin.core.errors import PermissionDeniedError
from haopin.evaluation import exports, scoring
from haopin.evaluation.models import Quota
from haopin.evaluation.tests.test_experts import enterprise, food
from haopin.evaluation.tests.test_scoring import accept_all, drawn_world, score_all, split, submit

__all__ = ["food"]  # the fixture, imported for this module's tests


def rows_of(content: bytes, sheet: str | None = None) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    rows = [tuple(cell for cell in row) for row in worksheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def row_starting(rows, first):
    return next(row for row in rows if row and row[0] == first)


@pytest.fixture
def reviewed(province, food):
    """One application scored by a panel of five (the last one an outlier), aggregated."""
    (application,) = drawn_world(province, food, panel=5)
    seats = score_all(application, [70, 71, 72, 73, 90])
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    application.refresh_from_db()
    return application, seats


def test_the_scoring_sheet_shows_each_expert_the_trimmed_means_and_the_total(province, reviewed):
    application, seats = reviewed
    content = exports.scoring_sheet_xlsx(actor=province.office, application=application)
    rows = rows_of(content, "评分表")
    assert row_starting(rows, "申报编号")[1] == application.number
    header = row_starting(rows, "编号")
    names = [str(seat.expert.user) for seat in seats]
    assert header[:4] == ("编号", "一级指标", "指标", "分值")
    assert header[4:14] == tuple(x for name in names for x in (f"{name} 得分", f"{name} 评语"))
    assert header[14] == "去极值平均分"
    first = row_starting(rows, "1.1")
    # 30 % of 70, 71, 72, 73, 90 → 21, 21.3, 21.6, 21.9, 27; trimmed mean of the middle three 21.6.
    assert [Decimal(str(v)) for v in first[4:14:2]] == [
        Decimal(v) for v in ("21", "21.3", "21.6", "21.9", "27")
    ]
    assert first[5] == "1.1 评语" and first[3] == 30
    assert Decimal(str(first[14])) == Decimal("21.6")
    totals = row_starting(rows, "合计")
    assert [Decimal(str(v)) for v in totals[4:14:2]] == [Decimal(v) for v in (70, 71, 72, 73, 90)]
    assert Decimal(str(totals[14])) == application.score_total == Decimal("72.00")
    flags = row_starting(rows, "离群提示")
    assert [bool(v) for v in flags[4:14:2]] == [False, False, False, False, True]
    assert Decimal(str(row_starting(rows, "综合得分")[3])) == Decimal("72.00")
    assert Decimal(str(row_starting(rows, "专家总分标准差")[3])) == application.score_spread
    panel = rows_of(content, "评审组")
    assert [row[3] for row in panel[1:]] == ["已提交评分"] * 5
    assert [row[5] for row in panel[1:]] == [None, None, None, None, "是"]


def test_the_ranking_lists_each_category_in_order_with_quota_and_pass_columns(province, food):
    Quota.objects.create(batch=food.batch, category=food.category, limit=2)
    apps = drawn_world(
        province,
        food,
        panel=3,
        apps=4,
        owners=[enterprise("370102"), enterprise("370212"), enterprise("370305"), enterprise("370102")],
    )
    for application, totals in zip(
        apps, ([90, 90, 90], [70, 75, 80], [75, 75, 75], [50, 50, 50]), strict=True
    ):
        score_all(application, totals)
    scoring.aggregate(actor=province.office, batch=food.batch, rule_set=food.rule_set)
    content = exports.ranking_xlsx(actor=province.office, batch=food.batch)
    rows = rows_of(content)
    assert rows[1] == tuple(exports.RANKING_HEADER)
    body = rows[2:]
    assert [row[1] for row in body] == [apps[0].number, apps[2].number, apps[1].number, apps[3].number]
    assert [row[0] for row in body] == [1, 2, 2, 4]
    assert [Decimal(str(row[5])) for row in body] == [Decimal(v) for v in ("90", "75", "75", "50")]
    assert [row[4] for row in body] == ["济南市", "淄博市", "青岛市", "济南市"]
    assert [row[7] for row in body] == ["是", "是", "是", "否"]
    assert [row[8] for row in body] == ["是", "待裁定", "待裁定", "否"]
    assert body[1][10] == "名额线同分，待裁定"
    assert Decimal(str(body[2][6])) == Decimal("4.08")


def test_only_the_office_exports(province, reviewed):
    application, seats = reviewed
    for user in (province.city_jinan, province.alice, province.dept_agri, seats[0].expert.user):
        with pytest.raises(PermissionDeniedError):
            exports.scoring_sheet_xlsx(actor=user, application=application)
        with pytest.raises(PermissionDeniedError):
            exports.ranking_xlsx(actor=user, batch=application.batch)
    # Reading is not deciding: the office's read-only members may export.
    assert exports.ranking_xlsx(actor=province.office_viewer, batch=application.batch)


def test_drafts_stay_private_on_the_scoring_sheet(province, food):
    (application,) = drawn_world(province, food, panel=3)
    seats = accept_all(application)
    scoring.scores_save(actor=seats[0].expert.user, assignment=seats[0], scores=split(60))
    content = exports.scoring_sheet_xlsx(actor=province.office, application=application)
    rows = rows_of(content, "评分表")
    assert row_starting(rows, "编号") == ("编号", "一级指标", "指标", "分值", "平均分")
    assert all(value is None for value in row_starting(rows, "1.1")[4:])  # a draft is not shown
    submit(seats[1], split(70))
    rows = rows_of(exports.scoring_sheet_xlsx(actor=province.office, application=application), "评分表")
    assert Decimal(str(row_starting(rows, "1.1")[4])) == Decimal("21")
