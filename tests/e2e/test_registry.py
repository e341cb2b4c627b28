"""The registry in a real browser: inline validation, filters that update the table, export,
and the same forms without JavaScript."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from conftest import PASSWORD
from haopin.registry.models import Product
from haopin.registry.validation import make_gtin
from tests.e2e.conftest import E2E

pytestmark = E2E

# Screenshots for a person to look at (HAOPIN_SCREENSHOTS=/some/dir); the tests do not need them.
SHOTS = os.environ.get("HAOPIN_SCREENSHOTS", "")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS, f"{name}.png")), full_page=True)


def test_enterprise_manager_adds_a_product_and_sees_the_inline_gtin_error(page, province, login):
    gtin = make_gtin("6901234", 31)
    wrong = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    login(province.alice)
    page.goto(province.alice_brand.get_absolute_url())
    page.click("text=登记产品/服务")
    page.fill("#id_name", "泉城把子肉")
    page.fill("#id_specification", "300g")
    page.fill("#id_standard_codes", "GB 2726-2016")
    page.fill("#id_gtin", wrong)
    page.press("#id_gtin", "Tab")  # change → htmx checks the form without saving
    error = page.locator("#field-gtin .error")
    expect(error).to_contain_text(f"末位应为 {gtin[-1]}")
    expect(page.locator("#field-gtin")).to_have_class("field invalid")
    shot(page, "product-form-inline-error")
    assert not Product.objects.filter(name="泉城把子肉").exists()
    # The other fields kept what was typed while the GTIN field was swapped.
    expect(page.locator("#id_name")).to_have_value("泉城把子肉")

    page.fill("#id_gtin", gtin)
    page.press("#id_gtin", "Tab")
    expect(page.locator("#field-gtin .error")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    page.click("#record-form button[type=submit]")
    page.wait_for_url("**/products/*/")
    expect(page.locator("h1")).to_contain_text("泉城把子肉")
    expect(page.locator("main")).to_contain_text(gtin)
    expect(page.locator(".msg.success")).to_contain_text("已登记")
    shot(page, "product-detail")
    assert Product.objects.get(name="泉城把子肉").gtin == gtin


def test_office_filters_the_brand_list_and_exports_it(page, province, login):
    login(province.office)
    page.goto("/workspace/registry/brands/")
    expect(page.locator("#table tbody tr")).to_have_count(2)
    page.select_option("select[name=tier]", "member")
    expect(page.locator("#table tbody tr")).to_have_count(1)
    expect(page.locator("#table tbody")).to_contain_text("崂山绿茶")
    assert "tier=member" in page.url  # the filter is in the address, so the page can be shared
    shot(page, "brand-list-filtered")

    page.click("text=品牌名称")  # sort by name
    expect(page.locator("#table th[aria-sort]")).to_have_count(1)

    # The export link is part of the table fragment that htmx swapped, so it carries the filter.
    with page.expect_download() as info:
        page.click("text=导出 Excel")
    download = info.value
    assert download.suggested_filename.startswith("品牌名录-") and download.suggested_filename.endswith(
        ".xlsx"
    )
    rows = list(
        load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active.iter_rows(values_only=True)
    )
    assert rows[0][0] == "品牌名称"
    assert [r[0] for r in rows[1:]] == ["崂山绿茶"]


def test_enterprise_page_shows_brands_and_history(page, province, login):
    login(province.city_jinan)
    page.goto(province.alice_ent.get_absolute_url())
    expect(page.locator("h1")).to_have_text("泉城食品有限公司")
    page.click("text=修改信息")
    page.fill("#id_address", "济南市历下区泉城路 1 号")
    page.press("#id_address", "Tab")  # the inline check runs on change; let it answer first
    page.wait_for_load_state("networkidle")
    page.click("#record-form button[type=submit]")
    page.wait_for_url(province.alice_ent.get_absolute_url())
    expect(page.locator(".history")).to_contain_text("修改企业信息")
    shot(page, "enterprise-detail")


@pytest.fixture
def page_without_js(browser: Browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_forms_work_without_javascript(page_without_js, province):
    page = page_without_js
    page.goto("/accounts/login/")
    page.fill("#id_username", province.alice.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/workspace/registry/brands/{province.alice_brand.uuid}/products/new/")
    page.fill("#id_name", "泉城把子肉")
    page.fill("#id_gtin", province.bob_product.gtin)
    page.click("#record-form button[type=submit]")
    expect(page.locator("#field-gtin .error")).to_have_text("该商品条码已被其他产品使用。")
    expect(page.locator("#id_name")).to_have_value("泉城把子肉")
    page.fill("#id_gtin", "")
    page.click("#record-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("泉城把子肉")
    page.goto("/workspace/registry/brands/?type=gi")
    expect(page.locator("#table tbody td.empty")).to_have_count(1)  # alice sees only her own brand
