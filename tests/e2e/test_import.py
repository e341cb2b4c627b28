"""Bulk import in a real browser: a file with one bad row is reported, fixed and committed."""

from __future__ import annotations

from haopin.registry.models import Brand, ImportJob
from haopin.registry.tests.test_import import good_row, xlsx
from haopin.registry.validation import make_uscc
from tests.e2e.conftest import E2E

pytestmark = E2E

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file(rows, name):
    return {"name": name, "mimeType": XLSX, "buffer": xlsx(rows).getvalue()}


def test_upload_see_the_bad_row_fix_it_and_commit(page, province, login):
    second = {"uscc": make_uscc("370112", 77), "region": "370112", "brand_name": "历城酱菜"}
    login(province.city_jinan)

    page.goto("/workspace/registry/imports/")
    page.click("text=上传名单")
    page.set_input_files("#id_file", _file([good_row(), good_row(**second, category="99999")], "名单.xlsx"))
    page.click("button:has-text('上传并校验')")
    page.wait_for_selector("#errors")
    row = page.locator("#errors tbody tr").first
    assert row.locator("td").nth(0).text_content() == "3"
    assert row.locator("td").nth(1).text_content() == "所属类别代码"
    assert "所属类别“99999”不存在" in row.text_content()
    assert page.locator("#import-status").text_content().strip() == "校验未通过"
    assert page.locator("text=确认导入").count() == 0

    page.click("text=重新上传")
    page.set_input_files("#id_file", _file([good_row(), good_row(**second)], "名单（修改后）.xlsx"))
    page.click("button:has-text('上传并校验')")
    page.wait_for_selector("#commit")
    assert "新增品牌" in page.text_content("#import-counts")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("text=导入完成")
    assert page.locator("#import-status").text_content().strip() == "已导入"
    assert Brand.objects.filter(name__in=["示范酥锅", "历城酱菜"]).count() == 2
    assert ImportJob.objects.filter(status=ImportJob.Status.COMMITTED).count() == 1
