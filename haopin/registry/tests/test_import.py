"""Bulk import of existing brand lists: the template, the dry run, the commit, the scope rules.

Files are built with openpyxl the way a department fills the template; each bad input named in
issue 2 has a row that shows its row number, column and Chinese message, and a dry run or a
refused commit leaves the registry exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from typing import Any

import pytest
from django.db import connection
from openpyxl import Workbook, load_workbook

from haopin.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from haopin.core.models import AuditEvent, Region
from haopin.registry import imports
from haopin.registry.imports import COLUMNS, SHEET, build_template, import_commit, import_validate
from haopin.registry.models import Brand, BrandSource, Document, Enterprise, ImportJob
from haopin.registry.validation import make_uscc

LABELS = {c.key: c.label for c in COLUMNS}
NEW_USCC = make_uscc("370102", 101)
NEW_USCC_2 = make_uscc("370112", 102)
QD_USCC = make_uscc("370212", 103)


def good_row(**values: Any) -> dict[str, Any]:
    """A valid row: a new food enterprise in 济南市历下区 with one 山东老字号 brand."""
    row = {
        "uscc": NEW_USCC,
        "name": "济南历下示范食品有限公司",
        "region": "370102",
        "legal_representative": "赵一",
        "address": "济南市历下区泉城路 1 号",
        "founded_on": dt.date(2003, 6, 18),
        "industry_code": "C1431",
        "size": "中型",
        "contact_name": "钱二",
        "contact_phone": "0531-86001234",
        "brand_name": "示范酥锅",
        "brand_name_en": "Shifan",
        "brand_type": "产品品牌",
        "category": "20101",
        "brand_region": "",
        "tier": "",
        "programme": "山东老字号",
        "certificate_number": "SDLZH-2019-001",
        "year": 2019,
        "trademarks": "1234567",
        "description": "百年传统工艺。",
    }
    row.update(values)
    return row


def xlsx(
    rows: list[dict[str, Any]],
    *,
    keys: list[str] | None = None,
    sheet: str = SHEET,
    header: list[str] | None = None,
    name: str = "名单.xlsx",
) -> io.BytesIO:
    """An .xlsx with a header row and ``rows`` (dicts by column key) on ``sheet``."""
    keys = keys or [c.key for c in COLUMNS]
    workbook = Workbook()
    data = workbook.active
    data.title = sheet
    data.append(header or [LABELS[k] for k in keys])
    for row in rows:
        data.append([row.get(k, "") for k in keys])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


def validate(actor, rows: list[dict[str, Any]], **kwargs: Any) -> ImportJob:
    return import_validate(actor=actor, upload=xlsx(rows, **kwargs), name="名单.xlsx")


def registry_counts() -> tuple[int, int, int]:
    return Enterprise.objects.count(), Brand.objects.count(), BrandSource.objects.count()


def errors_of(job: ImportJob) -> list[tuple[int, str]]:
    return [(e["row"], e["column"]) for e in job.errors]


# --- the template ------------------------------------------------------------------------------


def test_template_has_the_data_sheet_instructions_code_lists_and_drop_downs(province):
    workbook = load_workbook(io.BytesIO(build_template(province.office)))
    assert workbook.sheetnames == [SHEET, "填写说明", "代码表"]
    data = workbook[SHEET]
    assert [c.value for c in data[1]] == [c.label for c in COLUMNS]
    assert data["A1"].comment is not None and "18 位" in data["A1"].comment.text
    validated = {str(v.sqref).split(":")[0] for v in data.data_validations.dataValidation}
    assert {"C2", "H2", "M2", "N2", "O2", "P2", "Q2", "S2"} <= validated
    codes = workbook["代码表"]
    counties = [c.value for c in codes["A"][1:] if c.value]
    assert "370102 济南市历下区" in counties and "370212 青岛市崂山区" in counties
    assert "20101 加工食品" in [c.value for c in codes["C"][1:]]
    assert "培育库品牌" in [c.value for c in codes["E"][1:]]
    assert "统一社会信用代码" in [c.value for c in workbook["填写说明"]["A"]]


def test_template_of_a_city_bureau_lists_only_its_counties(province):
    codes = load_workbook(io.BytesIO(build_template(province.city_qingdao)))["代码表"]
    counties = [c.value for c in codes["A"][1:] if c.value]
    assert counties and all(v.startswith("3702") for v in counties)


def test_a_filled_in_template_validates(province):
    workbook = load_workbook(io.BytesIO(build_template(province.office)))
    row = good_row(region="370102 济南市历下区", category="20101 加工食品", founded_on="2003-06-18")
    workbook[SHEET].append([row[c.key] for c in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    job = import_validate(actor=province.office, upload=buffer, name="模板.xlsx")
    assert job.status == ImportJob.Status.VALID, job.errors
    assert job.summary["enterprises"]["new"] == 1 and job.summary["brands"]["new"] == 1


# --- dry run -----------------------------------------------------------------------------------


def test_dry_run_reports_counts_and_writes_nothing_to_the_registry(province):
    before = registry_counts()
    second = good_row(brand_name="示范把子肉", programme="", certificate_number="", year="")
    job = validate(province.office, [good_row(), second])
    assert registry_counts() == before
    assert job.status == ImportJob.Status.VALID
    assert job.row_count == 2 and job.error_count == 0 and job.errors == []
    assert job.summary["enterprises"] == {"new": 1, "updated": 0, "unchanged": 0}
    assert job.summary["brands"] == {"new": 2, "updated": 0, "unchanged": 0}
    assert job.summary["sources"] == {"new": 1, "updated": 0, "unchanged": 0}
    assert job.organisation == province.office_org and job.created_by == province.office
    assert job.document.purpose == Document.Purpose.IMPORT and job.document.enterprise is None
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == [
        "registry.document.uploaded",
        "registry.import.validated",
    ]


BAD_CELLS = [
    ("uscc", NEW_USCC[:-1] + ("0" if NEW_USCC[-1] != "0" else "1"), "校验位错误"),
    ("uscc", "9137010200000", "应为 18 位"),
    ("uscc", 913701020000001010, "存成了数字"),
    ("name", "", "必填项"),
    ("name", "企" * 101, "不能超过 100 个字"),
    ("region", "379999", "不是山东省的行政区划"),
    ("region", "370100", "不是县级区划"),
    ("region", "市中区", "不唯一"),
    ("founded_on", "2010-13-01", "日期“2010-13-01”不正确"),
    ("founded_on", "去年", "不正确"),
    ("founded_on", dt.date.today() + dt.timedelta(days=2), "晚于今天"),
    ("industry_code", "C99", "不存在"),
    ("industry_code", "1431", "格式不正确"),
    ("size", "巨型", "企业规模"),
    ("contact_phone", "12345", "联系电话"),
    ("brand_name", "", "必填项"),
    ("brand_type", "名牌", "品牌类型"),
    ("category", "99999", "不存在"),
    ("category", "2", "产业门类"),
    ("brand_region", "370212", "只有区域品牌、产业品牌和地理标志品牌"),
    ("tier", "金牌", "品牌层级"),
    ("tier", "好品山东品牌", "只有省质量强省办"),
    ("programme", "不存在的项目", "来源项目"),
    ("year", "19", "四位年份"),
    ("year", 1900, "1950"),
    ("trademarks", "TM-abc", "注册商标号"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_CELLS)
def test_each_bad_cell_is_reported_with_row_column_and_message(province, key, value, message):
    before = registry_counts()
    job = validate(province.city_jinan, [good_row(**{key: value})])
    assert job.status == ImportJob.Status.INVALID
    assert (2, LABELS[key]) in errors_of(job), job.errors
    error = next(e for e in job.errors if e["column"] == LABELS[key])
    assert message in error["message"]
    assert error["cell"].endswith("2") and error["cell"][0].isalpha()
    assert registry_counts() == before


def test_certificate_without_programme_is_an_error(province):
    job = validate(province.office, [good_row(programme="")])
    assert errors_of(job) == [(2, "来源项目")]
    assert "没有填写来源项目" in job.errors[0]["message"]


def test_every_bad_row_is_reported_not_just_the_first(province):
    rows = [
        good_row(uscc=make_uscc("370102", 201), brand_name="一"),
        good_row(uscc=make_uscc("370102", 202), brand_name="二", founded_on="2010-02-30"),
        good_row(uscc=make_uscc("370102", 203), brand_name="三"),
        good_row(uscc=make_uscc("370102", 204), brand_name="四", category="99999", size="巨型"),
        good_row(uscc=make_uscc("370102", 205), brand_name="五", region="379999"),
    ]
    job = validate(province.office, rows)
    assert errors_of(job) == [(3, "成立日期"), (5, "企业规模"), (5, "所属类别代码"), (6, "所在区划代码")]
    assert job.error_count == 4 and job.summary["bad_rows"] == 3


def test_a_duplicate_row_in_the_file_is_reported(province):
    job = validate(province.office, [good_row(), good_row(brand_name_en="Other"), good_row()])
    messages = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert "与第 2 行重复" in messages[(4, "来源项目")]
    assert "英文名称不一致" in messages[(3, "英文名称")]


def test_one_credit_code_with_two_enterprise_names_is_reported(province):
    job = validate(province.office, [good_row(), good_row(name="另一家公司", brand_name="另一个品牌")])
    assert errors_of(job) == [(3, "企业名称")]
    assert "企业名称不同（“济南历下示范食品有限公司”与“另一家公司”）" in job.errors[0]["message"]


def test_a_brand_from_two_programmes_takes_two_rows(province):
    rows = [good_row(), good_row(programme="泰山品质认证", certificate_number="TSPZ-01", year=2021)]
    job = validate(province.office, rows)
    assert job.status == ImportJob.Status.VALID, job.errors
    import_commit(actor=province.office, job=job)
    brand = Brand.objects.get(name="示范酥锅")
    assert sorted(brand.sources.values_list("programme__code", "certificate_number", "year")) == [
        ("sdtb", "SDLZH-2019-001", 2019),
        ("tsqp", "TSPZ-01", 2021),
    ]


def test_codes_names_and_numbers_are_accepted_where_unambiguous(province):
    row = good_row(
        region="济南市历下区",
        category="加工食品",
        brand_type="product",
        tier="培育库",
        programme="sdtb",
        size="medium",
        year=2019.0,
        founded_on=20030618,
        contact_phone=13800000000,
        trademarks="1234567；7654321",
    )
    job = validate(province.office, [row, good_row(uscc=NEW_USCC_2, region=370112, brand_name="二")])
    assert job.status == ImportJob.Status.VALID, job.errors
    import_commit(actor=province.office, job=job)
    enterprise = Enterprise.objects.get(uscc=NEW_USCC)
    assert enterprise.region == province.lixia and enterprise.size == "medium"
    assert enterprise.founded_on == dt.date(2003, 6, 18) and enterprise.contact_phone == "13800000000"
    brand = Brand.objects.get(owner=enterprise)
    assert brand.trademark_numbers == ["1234567", "7654321"] and brand.tier == province.pool
    assert Enterprise.objects.get(uscc=NEW_USCC_2).region == province.licheng


# --- malformed files ---------------------------------------------------------------------------


def _raw(content: bytes) -> io.BytesIO:
    buffer = io.BytesIO(content)
    buffer.name = "名单.xlsx"
    return buffer


def _damaged_sheet() -> bytes:
    source = zipfile.ZipFile(xlsx([good_row()]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data[: len(data) // 2]
            target.writestr(info, data)
    return out.getvalue()


def _other_sheet_only() -> bytes:
    workbook = Workbook()
    workbook.active.title = "Sheet1"
    workbook.active.append(["序号", "名称"])
    workbook.active.append([1, "某品牌"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


MALFORMED = [
    ("not-xlsx", lambda: b"%PDF-1.4\n" + b"0" * 2000, "文件类型不符"),
    ("text", lambda: "统一社会信用代码,企业名称\n".encode() * 50, "文件类型不符"),
    ("truncated-zip", lambda: xlsx([good_row()]).getvalue()[:3000], "文件已损坏"),
    ("damaged-sheet", _damaged_sheet, "内容已损坏"),
    ("no-data-sheet", _other_sheet_only, "没有“品牌名单”工作表"),
    (
        "missing-columns",
        lambda: xlsx([good_row()], keys=["uscc", "name", "region", "brand_name"]).getvalue(),
        "缺少必填列：品牌类型、所属类别代码",
    ),
    ("header-only", lambda: xlsx([]).getvalue(), "没有数据"),
    ("empty-sheet", lambda: xlsx([], header=[""]).getvalue(), "是空的"),
    ("no-header", lambda: xlsx([good_row()], header=["a"] * len(COLUMNS)).getvalue(), "没有表头"),
    (
        "duplicate-column",
        lambda: xlsx([good_row()], keys=[*[c.key for c in COLUMNS], "uscc"]).getvalue(),
        "出现了两次",
    ),
    ("empty-file", lambda: b"", "空文件"),
]


@pytest.mark.parametrize(("kind", "content", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_file_gets_one_clear_message_and_stores_nothing(province, kind, content, message):
    before = registry_counts()
    with pytest.raises(ValidationFailed) as caught:
        import_validate(actor=province.office, upload=_raw(content()), name="名单.xlsx")
    assert message in caught.value.message
    assert caught.value.details["file"]
    assert not ImportJob.objects.exists() and not Document.objects.exists()
    assert registry_counts() == before


def test_an_oversized_file_is_refused_before_it_is_read(province, settings):
    settings.MAX_IMPORT_MB = 1
    buffer = io.BytesIO(xlsx([good_row()]).getvalue())
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/media/photo.bin", os.urandom(1024 * 1024))
    buffer.seek(0)
    with pytest.raises(ValidationFailed) as caught:
        import_validate(actor=province.office, upload=buffer, name="大.xlsx")
    assert "文件过大" in caught.value.message and "1 MB" in caught.value.message
    assert not ImportJob.objects.exists()


def test_a_zip_bomb_is_refused(province):
    buffer = io.BytesIO(xlsx([good_row()]).getvalue())
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (60 * 1024 * 1024))
    buffer.seek(0)
    with pytest.raises(ValidationFailed) as caught:
        import_validate(actor=province.office, upload=buffer, name="炸弹.xlsx")
    assert "异常庞大" in caught.value.message


def test_rows_keep_their_excel_numbers_after_blank_rows_and_a_title_row(province):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(["2024 年山东老字号名单"])
    sheet.append([c.label for c in COLUMNS])
    sheet.append([good_row()[c.key] for c in COLUMNS])
    sheet.append([])
    sheet.append(
        [good_row(uscc=NEW_USCC_2, region="370112", brand_name="二", year="二〇一九")[c.key] for c in COLUMNS]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    job = import_validate(actor=province.office, upload=buffer, name="名单.xlsx")
    assert job.row_count == 2
    assert errors_of(job) == [(5, "认定年份")]
    assert job.errors[0]["cell"] == "S5"


def test_unknown_columns_are_ignored_with_a_warning(province):
    keys = [c.key for c in COLUMNS]
    header = [LABELS[k] for k in keys] + ["备注"]
    job = validate(province.office, [good_row()], header=header)
    assert job.status == ImportJob.Status.VALID
    assert job.summary["ignored_columns"] == ["备注"]
    assert "备注" in job.summary["warnings"][0]["message"]


def test_optional_columns_may_be_left_out(province):
    keys = ["uscc", "name", "region", "brand_name", "brand_type", "category"]
    job = validate(province.office, [good_row()], keys=keys)
    assert job.status == ImportJob.Status.VALID, job.errors
    import_commit(actor=province.office, job=job)
    brand = Brand.objects.get(name="示范酥锅")
    assert brand.tier == province.pool and brand.region == province.lixia and not brand.sources.exists()


# --- commit ------------------------------------------------------------------------------------


def test_commit_writes_every_row_with_one_audit_event_per_object(province):
    rows = [
        good_row(),
        good_row(brand_name="示范把子肉", programme="", certificate_number="", year=""),
        good_row(
            uscc=NEW_USCC_2,
            name="历城示范茶业有限公司",
            region="370112",
            brand_name="历城绿茶",
            category="10501",
        ),
    ]
    job = validate(province.city_jinan, rows)
    AuditEvent.objects.all().delete()  # keep only the commit's events in view
    from haopin.core.models import AuditHead

    AuditHead.objects.update(seq=0, hash="0" * 64)
    job = import_commit(actor=province.city_jinan, job=job)
    assert job.status == ImportJob.Status.COMMITTED and job.committed_at is not None
    enterprise = Enterprise.objects.get(uscc=NEW_USCC)
    assert enterprise.name == "济南历下示范食品有限公司" and enterprise.region == province.lixia
    assert enterprise.industry_code == "C1431" and enterprise.organisation is None
    brand = Brand.objects.get(owner=enterprise, name="示范酥锅")
    assert brand.category == province.cat_food and brand.tier == province.pool
    assert brand.sources.get().certificate_number == "SDLZH-2019-001"
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions.count("registry.enterprise.created") == 2
    assert actions.count("registry.brand.created") == 3
    assert actions[-1] == "registry.import.committed"
    created = AuditEvent.objects.get(action="registry.brand.created", target_id=str(brand.pk))
    assert created.new["sources"] == [
        {"programme": "sdtb", "certificate_number": "SDLZH-2019-001", "year": 2019}
    ]
    assert created.actor_id == province.city_jinan.pk and created.organisation_id == province.jinan_org.pk
    summary = AuditEvent.objects.get(action="registry.import.committed")
    assert summary.target_id == str(job.pk) and summary.new["brands"]["new"] == 3


def test_a_file_with_a_bad_row_cannot_be_committed_and_writes_nothing(province):
    rows = [good_row(), good_row(uscc=NEW_USCC_2, region="370112", brand_name="二", category="99999")]
    job = validate(province.office, rows)
    before = registry_counts()
    with pytest.raises(ConflictError) as caught:
        import_commit(actor=province.office, job=job)
    assert "校验未通过" in caught.value.message
    assert registry_counts() == before
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID


def test_a_second_commit_is_refused(province):
    job = validate(province.office, [good_row()])
    import_commit(actor=province.office, job=job)
    before = registry_counts()
    with pytest.raises(ConflictError) as caught:
        import_commit(actor=province.office, job=job)
    assert "不能重复提交" in caught.value.message
    assert registry_counts() == before


def test_of_two_simultaneous_commits_the_compare_and_set_lets_one_through(province):
    """The second person passed the status check just before the first one's commit landed:
    the compare-and-set inside the transaction refuses them and nothing is written twice."""
    job = validate(province.office, [good_row()])
    landed = []

    def first_commit_lands(execute, sql, params, many, context):
        if not landed and sql.startswith('UPDATE "registry_importjob"'):
            landed.append(True)
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.COMMITTED, committed_at=dt.datetime.now(dt.UTC)
            )
        return execute(sql, params, many, context)

    with connection.execute_wrapper(first_commit_lands), pytest.raises(ConflictError) as caught:
        import_commit(actor=province.office, job=job)
    assert landed and "不能重复提交" in caught.value.message
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()


def test_a_constraint_failure_halfway_rolls_back_every_row(province):
    """Someone registers one of the file's brands between the re-validation and the insert:
    the unique constraint stops the insert and nothing of the import remains, not even the
    enterprises written before the brands."""
    rows = [
        good_row(),
        good_row(
            uscc=province.alice_ent.uscc, name=province.alice_ent.name, brand_name="泉城新品", region="370102"
        ),
    ]
    job = validate(province.office, rows)
    before = registry_counts()
    events_before = AuditEvent.objects.count()
    injected = []

    def register_concurrently(execute, sql, params, many, context):
        if not injected and sql.startswith('INSERT INTO "registry_brand"'):
            injected.append(True)
            Brand.objects.create(
                name="泉城新品",
                owner=province.alice_ent,
                brand_type=province.product_type,
                category=province.cat_food,
                region=province.lixia,
                tier=province.pool,
            )
        return execute(sql, params, many, context)

    with connection.execute_wrapper(register_concurrently), pytest.raises(ConflictError) as caught:
        import_commit(actor=province.office, job=job)
    assert injected and "未写入任何数据" in caught.value.message
    assert registry_counts() == before
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()
    assert AuditEvent.objects.count() == events_before
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALID  # the status moved back with the data: retry is possible
    import_commit(actor=province.office, job=job)
    assert Brand.objects.filter(name__in=["示范酥锅", "泉城新品"]).count() == 2


def test_changes_since_the_dry_run_are_found_at_commit(province):
    job = validate(province.city_jinan, [good_row()])
    # Meanwhile the office registers the credit code in Qingdao, outside the Jinan bureau's region.
    Enterprise.objects.create(uscc=NEW_USCC, name="济南历下示范食品有限公司", region=province.laoshan)
    before = registry_counts()
    with pytest.raises(ValidationFailed) as caught:
        import_commit(actor=province.city_jinan, job=job)
    assert "发生了变化" in caught.value.message
    assert registry_counts() == before
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert "不在您的辖区内" in job.errors[0]["message"]


def test_a_replaced_file_is_not_committed(province):
    job = validate(province.office, [good_row()])
    path = job.document.file.path
    with open(path, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ConflictError) as caught:
        import_commit(actor=province.office, job=job)
    assert "校验和不符" in caught.value.message
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()


# --- re-import and upsert ----------------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing_and_audits_nothing_but_the_summary(province):
    rows = [good_row(), good_row(programme="泰山品质认证", certificate_number="T1", year=2020)]
    import_commit(actor=province.office, job=validate(province.office, rows))
    enterprise = Enterprise.objects.get(uscc=NEW_USCC)
    stamp = (enterprise.updated_at, Brand.objects.get(owner=enterprise).updated_at)
    counts = registry_counts()
    last_seq = AuditEvent.objects.order_by("-seq").first().seq

    job = validate(province.office, rows)
    assert job.summary["enterprises"] == {"new": 0, "updated": 0, "unchanged": 1}
    assert job.summary["brands"] == {"new": 0, "updated": 0, "unchanged": 1}
    assert job.summary["sources"] == {"new": 0, "updated": 0, "unchanged": 2}
    import_commit(actor=province.office, job=job)
    assert registry_counts() == counts
    enterprise.refresh_from_db()
    assert (enterprise.updated_at, Brand.objects.get(owner=enterprise).updated_at) == stamp
    new_events = set(AuditEvent.objects.filter(seq__gt=last_seq).values_list("action", flat=True))
    assert new_events == {
        "registry.document.uploaded",
        "registry.import.validated",
        "registry.import.committed",
    }


def test_a_changed_file_updates_and_audits_only_what_changed(province):
    import_commit(actor=province.office, job=validate(province.office, [good_row()]))
    rows = [
        good_row(address="济南市历下区泉城路 2 号", certificate_number="SDLZH-2019-009"),
        good_row(
            programme="泰山品质认证", certificate_number="T1", year=2020, address="济南市历下区泉城路 2 号"
        ),
    ]
    job = validate(province.office, rows)
    assert job.summary["enterprises"]["updated"] == 1 and job.summary["brands"]["unchanged"] == 1
    assert job.summary["sources"] == {"new": 1, "updated": 1, "unchanged": 0}
    last_seq = AuditEvent.objects.order_by("-seq").first().seq
    import_commit(actor=province.office, job=job)
    enterprise = Enterprise.objects.get(uscc=NEW_USCC)
    assert enterprise.address == "济南市历下区泉城路 2 号"
    events = AuditEvent.objects.filter(seq__gt=last_seq).exclude(action__startswith="registry.import")
    updated = events.get(action="registry.enterprise.updated")
    assert updated.old == {"address": "济南市历下区泉城路 1 号"} and updated.new == {
        "address": "济南市历下区泉城路 2 号"
    }
    sources = events.filter(action="registry.brand.source_set")
    assert sorted(e.new["programme"] for e in sources) == ["sdtb", "tsqp"]
    assert not events.filter(action__in=["registry.brand.updated", "registry.enterprise.created"]).exists()


def test_blank_cells_do_not_erase_what_the_registry_knows(province):
    row = good_row(
        uscc=province.alice_ent.uscc,
        name=province.alice_ent.name,
        legal_representative="",
        industry_code="",
        size="",
        brand_name=province.alice_brand.name,
        programme="",
        certificate_number="",
        year="",
    )
    job = validate(province.city_jinan, [row])
    assert job.summary["enterprises"]["updated"] == 1  # address, contacts, founding date were new
    import_commit(actor=province.city_jinan, job=job)
    province.alice_ent.refresh_from_db()
    assert province.alice_ent.legal_representative == "李明" and province.alice_ent.industry_code == "C14"
    assert province.alice_ent.size == "medium" and province.alice_ent.address == "济南市历下区泉城路 1 号"


def test_a_renamed_enterprise_is_updated_with_a_warning(province):
    row = good_row(
        uscc=province.alice_ent.uscc, name="泉城食品股份有限公司", brand_name=province.alice_brand.name
    )
    job = validate(province.office, [row])
    assert any(
        "将由“泉城食品有限公司”改为“泉城食品股份有限公司”" in w["message"] for w in job.summary["warnings"]
    )
    import_commit(actor=province.office, job=job)
    province.alice_ent.refresh_from_db()
    assert province.alice_ent.name == "泉城食品股份有限公司"


# --- who may import what -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["office_viewer", "alice", "alice_viewer", "expert", "carol"])
def test_read_only_members_and_enterprises_cannot_import(province, persona):
    with pytest.raises(PermissionDeniedError):
        validate(getattr(province, persona), [good_row()])
    assert not ImportJob.objects.exists()


def test_a_read_only_member_cannot_commit_a_validated_import(province):
    job = validate(province.office, [good_row()])
    with pytest.raises(PermissionDeniedError):
        import_commit(actor=province.office_viewer, job=job)
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()


def test_another_organisation_cannot_commit_an_import(province):
    from haopin.core.errors import NotFoundError

    job = validate(province.city_jinan, [good_row()])
    with pytest.raises(NotFoundError):
        import_commit(actor=province.city_qingdao, job=job)
    assert ImportJob.objects.get().status == ImportJob.Status.VALID


def test_city_qingdao_cannot_import_a_jinan_enterprise(province):
    job = validate(province.city_qingdao, [good_row()])
    assert errors_of(job) == [(2, "所在区划代码")]
    assert "不在您的辖区（青岛市）内" in job.errors[0]["message"]


def test_city_qingdao_cannot_import_an_existing_jinan_enterprise_under_a_qingdao_address(province):
    row = good_row(uscc=province.alice_ent.uscc, name=province.alice_ent.name, region="370212")
    job = validate(province.city_qingdao, [row])
    assert errors_of(job) == [(2, "统一社会信用代码")]
    assert "济南市历下区" in job.errors[0]["message"]


def test_a_city_cannot_move_its_enterprise_out_of_its_region(province):
    row = good_row(uscc=province.alice_ent.uscc, name=province.alice_ent.name, region="370212")
    job = validate(province.city_jinan, [row])
    assert errors_of(job) == [(2, "所在区划代码")]
    assert "迁出" in job.errors[0]["message"]


def test_city_qingdao_imports_its_own_enterprises(province):
    row = good_row(
        uscc=QD_USCC, name="青岛示范啤酒有限公司", region="370212", category="20102", brand_name="示范啤酒"
    )
    job = validate(province.city_qingdao, [row])
    assert job.status == ImportJob.Status.VALID, job.errors
    import_commit(actor=province.city_qingdao, job=job)
    assert Brand.objects.get(name="示范啤酒").region == province.laoshan


def test_dept_agri_cannot_import_a_food_brand(province):
    job = validate(province.dept_agri, [good_row()])
    assert errors_of(job) == [(2, "所属类别代码")]
    assert "不在您的管辖范围内" in job.errors[0]["message"]


def test_dept_agri_imports_tea_and_gi_brands_and_creates_their_owners(province):
    rows = [
        good_row(
            category="10501", brand_name="示范绿茶", programme="农产品地理标志", certificate_number="AGI-1"
        ),
        # A food brand is in the department's scope when it comes from a programme it manages.
        good_row(brand_name="示范地标酱", programme="农产品地理标志", certificate_number="AGI-2"),
        good_row(
            uscc=NEW_USCC_2,
            name="历城区茶叶协会",
            region="370112",
            brand_name="历城茶",
            brand_type="地理标志品牌",
            category="10501",
            brand_region="370100",
            programme="农产品区域公用品牌",
            certificate_number="ARPB-1",
        ),
    ]
    job = validate(province.dept_agri, rows)
    assert job.status == ImportJob.Status.VALID, job.errors
    import_commit(actor=province.dept_agri, job=job)
    assert Brand.objects.get(name="历城茶").region == province.jinan
    assert Enterprise.objects.filter(uscc__in=[NEW_USCC, NEW_USCC_2]).count() == 2


def test_a_department_leaves_existing_enterprises_unchanged_with_a_warning(province):
    row = good_row(
        uscc=province.bob_ent.uscc,
        name="崂山茶业集团",
        region="370212",
        address="青岛市崂山区新地址",
        brand_name=province.bob_brand.name,
        brand_type="地理标志品牌",
        category="10501",
        programme="农产品地理标志",
        certificate_number="AGI01234",
        year=2012,
        tier="",
    )
    job = validate(province.dept_agri, [row])
    assert job.status == ImportJob.Status.VALID, job.errors
    assert job.summary["enterprises"] == {"new": 0, "updated": 0, "unchanged": 1}
    warning = job.summary["warnings"][0]
    assert "省直部门不能修改企业信息" in warning["message"] and "企业名称" in warning["message"]
    import_commit(actor=province.dept_agri, job=job)
    province.bob_ent.refresh_from_db()
    assert province.bob_ent.name == "崂山茶业有限公司" and province.bob_ent.address == ""


def test_only_the_office_imports_tiers_above_the_cultivation_pool(province):
    job = validate(province.city_jinan, [good_row(tier="标杆品牌")])
    assert errors_of(job) == [(2, "品牌层级")]
    job = validate(province.office, [good_row(tier="标杆品牌")])
    assert job.status == ImportJob.Status.VALID
    import_commit(actor=province.office, job=job)
    assert Brand.objects.get(name="示范酥锅").tier == province.benchmark


def test_a_bureau_does_not_demote_a_member_brand_but_is_told_so(province):
    row = good_row(
        uscc=province.bob_ent.uscc,
        name=province.bob_ent.name,
        region="370212",
        brand_name=province.bob_brand.name,
        brand_type="地理标志品牌",
        category="10501",
        tier="培育库品牌",
        programme="",
        certificate_number="",
        year="",
    )
    job = validate(province.city_qingdao, [row])
    assert job.status == ImportJob.Status.VALID, job.errors
    assert any("品牌层级由省质量强省办调整" in w["message"] for w in job.summary["warnings"])
    import_commit(actor=province.city_qingdao, job=job)
    province.bob_brand.refresh_from_db()
    assert province.bob_brand.tier == province.member


def test_an_existing_brand_outside_the_scope_cannot_be_changed(province):
    row = good_row(
        uscc=province.bob_ent.uscc,
        name=province.bob_ent.name,
        region="370212",
        brand_name=province.bob_brand.name,
        brand_type="地理标志品牌",
        category="10501",
        programme="中华老字号",
    )
    job = validate(province.dept_commerce, [row])
    assert errors_of(job) == [(2, "所属类别代码")]
    assert "已在平台登记，但不在您的管辖范围内" in job.errors[0]["message"]


def test_region_lookups_need_no_query_per_row(province, django_assert_max_num_queries):
    """Validation costs the same handful of queries for 5 rows or 200 (lookups are dicts)."""

    county = Region.objects.get(code="370102").code

    def run(n: int) -> int:
        rows = [
            good_row(uscc=make_uscc("370102", 5000 + i), brand_name=f"品牌{i}", region=county)
            for i in range(n)
        ]
        sheet = imports.read_sheet(xlsx(rows))
        with django_assert_max_num_queries(20) as captured:
            report = imports.validate(province.office, sheet)
        assert report.ok, report.errors[:3]
        return len(captured.captured_queries)

    run(1)  # the persona's scope is computed once, on first use
    assert run(5) == run(200)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two writers at once need two connections to one database; SQLite's test database is in memory",
)
@pytest.mark.django_db(transaction=True)
def test_two_people_pressing_commit_at_once_on_postgresql(province):
    import threading

    from django.db import connections

    job = validate(province.office, [good_row()])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def press(actor) -> None:
        try:
            barrier.wait()
            import_commit(actor=actor, job=job)
            outcomes.append("committed")
        except ConflictError as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press, args=(province.office,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 2 and outcomes.count("committed") == 1
    assert any("不能重复提交" in outcome for outcome in outcomes)
    assert Brand.objects.filter(name="示范酥锅").count() == 1
    assert AuditEvent.objects.filter(action="registry.import.committed").count() == 1
