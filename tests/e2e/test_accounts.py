"""Registration in a real browser: an enterprise registers, the city bureau approves, the
enterprise signs in and works."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from haopin.accounts.models import Organisation
from haopin.registry.validation import make_uscc
from tests.e2e.conftest import E2E

pytestmark = E2E


@pytest.fixture(autouse=True)
def _static_files_by_name(settings):
    """Serve static files under their plain names in the live server.

    pytest-django's live server answers /static/ with Django's finders, which do not know the
    hashed names that the manifest storage puts in pages: without this, htmx and the CSS are
    404 in the browser. (Belongs in tests/e2e/conftest.py for every browser test.)
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


NEW_PASSWORD = "Spring-Water-2025"


def test_register_then_city_bureau_approves_then_enterprise_works(page, province, login):
    uscc = make_uscc("370102", 4242)
    page.goto("/accounts/login/")
    page.click("text=注册")
    page.wait_for_url("**/accounts/register/")

    # Inline check: a wrong check character is explained as soon as the field is left.
    page.fill("#id_uscc", uscc[:-1] + ("0" if uscc[-1] != "0" else "1"))
    page.fill("#id_name", "济南趵突泉饮品有限公司")
    expect(page.locator("#field-uscc")).to_contain_text(f"末位应为 {uscc[-1]}")
    page.fill("#id_uscc", uscc)
    page.fill("#id_name", "济南趵突泉饮品有限公司")
    expect(page.locator("#field-uscc")).to_contain_text("登记机关所在地：济南市历下区")

    page.select_option("#id_region", "370102")
    page.fill("#id_legal_representative", "赵建国")
    page.fill("#id_contact_name", "孙丽")
    page.fill("#id_contact_phone", "13805310000")
    page.fill("#id_contact_email", "sunli@example.cn")
    page.fill("#id_username", "alice")
    page.fill("#id_password", NEW_PASSWORD)
    expect(page.locator("#field-username")).to_contain_text("该用户名已被使用")
    page.fill("#id_username", "baotuquan")
    page.fill("#id_password2", NEW_PASSWORD)
    # What was typed survives the inline checks.
    assert page.input_value("#id_password") == NEW_PASSWORD
    page.click("button:has-text('提交注册')")
    page.wait_for_url("**/accounts/register/done/")
    expect(page.locator("main")).to_contain_text("济南市市场监督管理局")
    assert Organisation.objects.get(uscc=uscc).status == "pending"

    # The city bureau of Jinan finds it in its to-do list and approves it.
    login(province.city_jinan)
    page.click("a:has-text('待审核的企业注册')")
    page.click("text=济南趵突泉饮品有限公司")
    expect(page.locator("main")).to_contain_text("登记机关所在地：济南市历下区")
    page.fill("#id_note", "信用代码与营业执照一致")
    page.click("button:has-text('审核通过')")
    expect(page.locator(".messages")).to_contain_text("注册已通过")
    page.click("text=退出")
    page.wait_for_url("**/accounts/login/")

    # The enterprise signs in and sees its workspace.
    page.fill("#id_username", "baotuquan")
    page.fill("#id_password", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/workspace/")
    expect(page.locator("h1")).to_contain_text("孙丽")
    expect(page.locator(".topbar")).to_contain_text("济南趵突泉饮品有限公司")
    expect(page.locator("main")).not_to_contain_text("等待所在地市场监管部门审核")
    page.locator(".sidenav").get_by_role("link", name="单位", exact=True).click()
    expect(page.locator("h1")).to_have_text("济南趵突泉饮品有限公司")
    expect(page.locator("#members")).to_contain_text("baotuquan")


def test_other_city_does_not_see_the_registration(page, province, login):
    login(province.city_qingdao)
    expect(page.locator("main")).not_to_contain_text("待审核的企业注册")
    page.goto(f"/accounts/registrations/{province.carol_org.uuid}/")
    expect(page.locator("h1")).to_have_text("未找到")
