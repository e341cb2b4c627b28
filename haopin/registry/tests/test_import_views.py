"""The bulk import in the workspace: list, template, upload → report → commit, and its guards."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from haopin.registry.models import Brand, Document, Enterprise, ImportJob
from haopin.registry.tests.test_import import NEW_USCC, good_row, validate, xlsx
from haopin.registry.validation import make_uscc

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload_file(rows, name="名单.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx(rows).getvalue(), content_type=XLSX)


def _jobs(province, n: int) -> None:
    for i in range(n):
        document = Document.objects.create(
            purpose=Document.Purpose.IMPORT,
            file=f"documents/x{i}.xlsx",
            original_name=f"名单{i}.xlsx",
            content_type=XLSX,
            size=1,
            sha256="0" * 64,
            uploaded_by=province.city_jinan,
            uploaded_by_organisation=province.jinan_org,
        )
        ImportJob.objects.create(
            organisation=province.jinan_org,
            created_by=province.city_jinan,
            document=document,
            status=ImportJob.Status.INVALID,
            row_count=i,
            error_count=1,
        )


def test_the_list_shows_the_organisations_imports_with_a_constant_query_count(
    province, as_user, django_assert_max_num_queries
):
    client = as_user(province.city_jinan)
    _jobs(province, 3)
    url = reverse("registry:import-list")
    with django_assert_max_num_queries(12) as small:
        response = client.get(url, {"size": 20})
    assert response.status_code == 200
    page = response.content.decode()
    assert "名单2.xlsx" in page and "上传名单" in page and "下载导入模板" in page
    _jobs(province, 40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url, {"size": 50})
    assert response.content.decode().count("<tr>") == 1 + 43  # the header and every job


def test_other_organisations_see_none_of_these_imports(province, as_user):
    _jobs(province, 2)
    response = as_user(province.city_qingdao).get(reverse("registry:import-list"))
    assert response.status_code == 200
    assert "名单0.xlsx" not in response.content.decode()
    job = ImportJob.objects.first()
    assert as_user(province.city_qingdao).get(job.get_absolute_url()).status_code == 404


def test_enterprises_have_no_import_pages(province, as_user):
    client = as_user(province.alice)
    assert client.get(reverse("registry:import-list")).status_code == 403
    assert client.get(reverse("registry:import-template")).status_code == 403
    assert client.get(reverse("registry:import-upload")).status_code == 403


def test_the_template_downloads_as_xlsx(province, as_user):
    response = as_user(province.dept_agri).get(reverse("registry:import-template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.content)).sheetnames[0] == "品牌名单"


def test_a_read_only_member_cannot_upload(province, as_user):
    client = as_user(province.office_viewer)
    assert client.get(reverse("registry:import-upload")).status_code == 403
    response = client.post(reverse("registry:import-upload"), {"file": upload_file([good_row()])})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_upload_without_a_file_or_with_a_malformed_file_shows_the_message_by_the_field(province, as_user):
    client = as_user(province.city_jinan)
    url = reverse("registry:import-upload")
    assert client.get(url).status_code == 200
    response = client.post(url, {})
    assert response.status_code == 422
    assert "请选择要上传的 Excel 文件" in response.content.decode()
    not_xlsx = SimpleUploadedFile("名单.xlsx", b"%PDF-1.4 " + b"x" * 100, content_type=XLSX)
    response = client.post(url, {"file": not_xlsx})
    assert response.status_code == 422
    page = response.content.decode()
    assert "文件类型不符" in page and 'id="file-error"' in page
    assert not ImportJob.objects.exists()


def test_upload_report_fix_and_commit(province, as_user):
    client = as_user(province.city_jinan)
    second = {"uscc": make_uscc("370112", 77), "region": "370112", "brand_name": "二"}
    bad = [good_row(), good_row(**second, founded_on="2010-02-30")]
    response = client.post(reverse("registry:import-upload"), {"file": upload_file(bad)})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    page = client.get(job.get_absolute_url()).content.decode()
    assert "校验未通过" in page and "未写入任何数据" in page
    assert "<td>3</td><td>成立日期</td><td>F3</td><td>2010-02-30</td>" in page
    assert "/commit/" not in page
    assert not Enterprise.objects.filter(uscc=NEW_USCC).exists()

    good = [good_row(), good_row(**second)]
    response = client.post(reverse("registry:import-upload"), {"file": upload_file(good)})
    job = ImportJob.objects.get(status=ImportJob.Status.VALID)
    page = client.get(response["Location"]).content.decode()
    assert "校验通过" in page and "确认导入" in page
    commit = reverse("registry:import-commit", args=[job.uuid])
    assert client.get(commit).status_code == 405

    response = client.post(commit, follow=True)
    assert response.status_code == 200
    assert "导入完成：新增企业 2 家" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMMITTED
    assert Brand.objects.filter(name__in=["示范酥锅", "二"]).count() == 2

    response = client.post(commit, follow=True)
    assert "不能重复提交" in response.content.decode()
    assert Brand.objects.filter(name__in=["示范酥锅", "二"]).count() == 2


def test_only_writing_members_of_the_organisation_commit(province, as_user):
    job = validate(province.city_jinan, [good_row()])
    commit = reverse("registry:import-commit", args=[job.uuid])
    assert as_user(province.city_qingdao).post(commit).status_code == 404
    response = as_user(province.office_viewer).post(commit)
    assert response.status_code == 403
    page = as_user(province.office_viewer).get(job.get_absolute_url()).content.decode()
    assert commit not in page and "您的账号为只读" in page
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALID


def test_the_error_list_downloads_and_pages(province, as_user):
    rows = [
        good_row(uscc=make_uscc("370102", 900 + i), brand_name=f"品牌{i}", size="巨型") for i in range(120)
    ]
    job = validate(province.city_jinan, rows)
    client = as_user(province.city_jinan)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "共 120 处" in page and "第 1/3 页" in page
    assert page.count("企业规模“巨型”不正确") == 50
    last = client.get(job.get_absolute_url(), {"page": 3}).content.decode()
    assert last.count("企业规模“巨型”不正确") == 20 and "<td>121</td>" in last
    response = client.get(job.get_absolute_url(), {"export": "xlsx"})
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content))["错误明细"]
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0] == ("行号", "列", "单元格", "填写内容", "说明")
    assert len(lines) == 121 and lines[1][:4] == (2, "企业规模", "H2", "巨型")


@pytest.mark.parametrize("persona", ["office", "dept_agri", "city_qingdao"])
def test_import_pages_answer_for_every_importing_role(province, as_user, persona):
    client = as_user(getattr(province, persona))
    assert client.get(reverse("registry:import-list")).status_code == 200
    assert client.get(reverse("registry:import-upload")).status_code == 200


def test_validated_imports_wait_on_the_to_do_list_of_their_organisation(province):
    from haopin.registry.import_views import NAV_ITEMS, import_todo

    validate(province.city_jinan, [good_row()])
    (item,) = import_todo(province.city_jinan)
    assert item.count == 1 and item.url.endswith("?status=valid")
    assert import_todo(province.city_qingdao)[0].count == 0
    assert import_todo(province.office_viewer) == []
    visible = NAV_ITEMS[0].visible
    assert visible(province.office_viewer) and visible(province.dept_agri) and not visible(province.alice)
