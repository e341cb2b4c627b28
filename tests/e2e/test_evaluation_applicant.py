"""An application in a real browser: the enterprise starts it, fills it in section by section
(with inline checks) and watches the missing-items checklist shrink, submits it; the city bureau
recommends it; an expert declares no conflict and scores it. The office's stages in between are
taken through the services, which the other tests cover."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from conftest import PASSWORD
from haopin.core.models import Category
from haopin.evaluation import services
from haopin.evaluation.models import Application, Assignment, Score
from haopin.evaluation.tests.test_applications import FIGURES, advance, assign_expert
from haopin.evaluation.tests.test_experts import small_rule_set
from haopin.registry import services as registry_services
from tests.e2e.conftest import E2E

pytestmark = E2E

S = Application.Status
# Screenshots for a person to look at (HAOPIN_SCREENSHOTS=/some/dir); the tests do not need them.
SHOTS = os.environ.get("HAOPIN_SCREENSHOTS", "")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS, f"{name}.png")), full_page=True)


def open_batch(province):
    """An open batch around today with a short rule set (four indicators) for processed food."""
    today = timezone.localdate()
    rule_set = small_rule_set(province.office, Category.objects.get(code="201"), province.product_type)
    batch = services.batch_create(
        actor=province.office,
        year=today.year,
        sequence=1,
        title=f"{today.year}年第一批好品山东品牌评价",
        apply_from=today - dt.timedelta(days=5),
        apply_until=today + dt.timedelta(days=30),
        review_until=today + dt.timedelta(days=60),
    )
    services.batch_rule_set_attach(actor=province.office, batch=batch, rule_set=rule_set)
    return services.batch_open(actor=province.office, batch=batch)


def sign_out(page: Page) -> None:
    page.context.clear_cookies()


def settle(page: Page, selector: str) -> None:
    """Leave the last field (its change starts an inline check) and let the check finish before
    the form is saved: the test database (SQLite in memory) cannot run the two side by side."""
    page.press(selector, "Tab")
    page.wait_for_load_state("networkidle")


def missing(page: Page) -> int:
    return page.locator("#checklist ul.checklist li:not(.ok)").count()


def test_an_application_from_start_to_expert_scores(page, province, login):
    batch = open_batch(province)
    registry_services.enterprise_update(
        actor=province.alice, enterprise=province.alice_ent, founded_on=dt.date(2010, 3, 1)
    )
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of data-confirm buttons

    # --- the enterprise starts an application -------------------------------------------------
    login(province.alice)
    page.goto("/workspace/evaluation/applications/")
    page.click("text=申报品牌")
    page.select_option("#id_brand", value=str(province.alice_brand.pk))
    expect(page.locator("#id_batch")).to_have_value(str(batch.pk))  # the only open batch is chosen
    settle(page, "#id_brand")
    page.click("button:has-text('创建申报')")
    page.wait_for_url("**/edit/")
    application = Application.objects.get(brand=province.alice_brand)
    expect(page.locator(".messages .msg.success")).to_contain_text(application.number)
    assert missing(page) == 5
    shot(page, "application-edit-empty")

    # --- 1 基本情况 ---------------------------------------------------------------------------
    page.fill("#id_summary", "泉城酥锅为济南传统名吃，工艺传承百年，质量稳定。")
    page.check("text=泉城酥锅")
    page.fill("#id_national_rank", "0")
    page.press("#id_national_rank", "Tab")  # change → htmx checks the form without saving
    expect(page.locator("#field-national_rank .errorlist")).to_contain_text("排名须为正整数")
    expect(page.locator("#id_summary")).to_have_value(re.compile("泉城酥锅"))  # kept while checked
    page.fill("#id_national_rank", "12")
    page.press("#id_national_rank", "Tab")
    expect(page.locator("#field-national_rank .errorlist")).to_have_count(0)
    page.fill("#id_provincial_rank", "3")
    page.check("#id_credit_clean_0")
    page.check("#id_inspection_clean_0")
    settle(page, "#id_inspection_clean_0")
    page.click("button:has-text('保存基本情况')")
    expect(page.locator(".messages .msg.success")).to_contain_text("基本情况已保存")
    assert missing(page) == 3

    # --- 2 主要经济指标 -------------------------------------------------------------------------
    first = batch.year - 3
    page.fill(f"#id_f_{first}_revenue", "-5")
    page.press(f"#id_f_{first}_revenue", "Tab")
    expect(page.locator(f"#field-f_{first}_revenue .errorlist")).to_contain_text("不能为负数")
    for year in range(batch.year - 3, batch.year):
        for name, value in [
            ("revenue", "5000"),
            ("profit", "600"),
            ("tax", "250"),
            ("rd_spend", "250"),
            ("export", "100"),
            ("employees", "320"),
        ]:
            page.fill(f"#id_f_{year}_{name}", value)
    settle(page, f"#id_f_{batch.year - 1}_employees")
    page.click("button:has-text('保存经济指标')")
    expect(page.locator(".messages .msg.success")).to_contain_text("主要经济指标已保存")
    assert missing(page) == 2

    # --- 3 自评 -----------------------------------------------------------------------------
    page.fill("#id_score_1_1", "31")
    page.press("#id_score_1_1", "Tab")
    expect(page.locator("#field-score_1_1 .errorlist")).to_contain_text("0 至 30 之间")
    for code, value in [("1_1", "25"), ("1_2", "24"), ("2_1", "16"), ("2_2", "15")]:
        page.fill(f"#id_score_{code}", value)
    page.fill("#id_note_1_1", "通过 GB/T 19001 认证，设首席质量官。")
    settle(page, "#id_note_1_1")
    page.click("button:has-text('保存自评')")
    expect(page.locator(".messages .msg.success")).to_contain_text("自评已保存")
    assert missing(page) == 1

    # --- 4 证明材料 (optional) and 5 承诺 ---------------------------------------------------
    page.set_input_files(
        "#id_file",
        files=[{"name": "质量管理体系认证证书.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.fill("#id_title", "质量管理体系认证证书")
    page.click("button:has-text('上传')")
    expect(page.locator(".messages .msg.success")).to_contain_text("证明材料已上传")
    expect(page.locator("#evidence table")).to_contain_text("质量管理体系认证证书")
    page.fill("#id_name", "李明")
    page.check("#id_confirm")
    settle(page, "#id_confirm")
    page.click("button:has-text('签署承诺')")
    expect(page.locator(".messages .msg.success")).to_contain_text("已签署真实性承诺")
    assert missing(page) == 0
    shot(page, "application-edit-complete")

    page.click("#checklist button:has-text('提交申报')")
    page.wait_for_url(f"**/{application.uuid}/")
    expect(page.locator(".page-head")).to_contain_text("待推荐")
    expect(page.locator("#timeline")).to_contain_text("提交申报")
    application.refresh_from_db()
    assert application.status == S.SUBMITTED

    # --- the city bureau recommends it ------------------------------------------------------------
    sign_out(page)
    login(province.city_jinan)
    page.goto(application.get_absolute_url())
    page.click("#action-recommend summary")
    page.fill("#id_recommend-opinion", "经核实，申报材料真实，同意推荐。")
    settle(page, "#id_recommend-opinion")
    page.click("#action-recommend button[type=submit]")
    expect(page.locator(".messages .msg.success")).to_contain_text("已推荐")
    expect(page.locator(".page-head")).to_contain_text("待资格审查")
    expect(page.locator("#timeline")).to_contain_text("同意推荐")
    shot(page, "application-detail-recommended")
    application.refresh_from_db()
    assert application.status == S.RECOMMENDED

    # --- the office's stages, then an expert is drawn -------------------------------------------------
    advance(
        application,
        S.EXPERT_REVIEW,
        owner=province.alice,
        recommender=province.city_jinan,
        office=province.office,
    )
    assign_expert(application, province.expert, Assignment.Status.INVITED)

    sign_out(page)
    login(province.expert)
    page.goto(application.get_absolute_url())
    expect(page.locator("h1")).to_contain_text("未找到")  # not before the declaration
    page.goto("/workspace/evaluation/assignments/")
    page.click(f"text={application.number}")
    expect(page.locator("main")).to_contain_text(province.alice_ent.uscc)
    expect(page.locator("main")).not_to_contain_text("泉城酥锅为济南传统名吃")
    page.click("button:has-text('声明无利益冲突')")
    expect(page.locator(".messages .msg.success")).to_contain_text("无利益冲突")

    page.click("text=打开评分表")
    page.fill("#id_score_1_1", "35")
    page.press("#id_score_1_1", "Tab")
    expect(page.locator("#field-score_1_1 .errorlist")).to_contain_text("0 至 30 之间")
    for code, value in [("1_1", "26"), ("1_2", "24.5"), ("2_1", "15")]:
        page.fill(f"#id_score_{code}", value)
        page.fill(f"#id_comment_{code}", f"指标 {code} 材料充分。")
    settle(page, "#id_comment_2_1")
    page.click("button:has-text('保存草稿')")
    expect(page.locator(".messages .msg.success")).to_contain_text("草稿已保存")
    assert Score.objects.filter(assignment__application=application).count() == 3
    page.fill("#id_score_2_2", "16")
    page.fill("#id_comment_2_2", "创新成果较多。")
    settle(page, "#id_comment_2_2")
    shot(page, "score-sheet")
    page.click("button:has-text('提交评分')")
    page.wait_for_url("**/submit/")
    expect(page.locator("main")).to_contain_text("81.5")
    page.click("button:has-text('确认提交评分')")
    expect(page.locator(".messages .msg.success")).to_contain_text("评分表不能再修改")
    seat = Assignment.objects.get(application=application, expert=province.expert.expert_profile)
    assert seat.status == Assignment.Status.SUBMITTED
    page.click("text=查看我的评分")
    expect(page.locator("main")).to_contain_text("评分已于")
    expect(page.locator("input[name=score_1_1]")).to_have_count(0)  # read-only after submission


@pytest.fixture
def page_without_js(browser: Browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in_without_js(page: Page, user) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_filling_in_and_deciding_work_without_javascript(page_without_js, province):
    """The sections save by plain form posts; the moves open as <details> and post their forms."""
    page = page_without_js
    batch = open_batch(province)
    application = services.application_start(actor=province.alice, batch=batch, brand=province.alice_brand)
    figures = [{**row, "year": batch.year - 3 + index} for index, row in enumerate(FIGURES)]
    services.application_set_figures(actor=province.alice, application=application, figures=figures)

    sign_in_without_js(page, province.alice)
    page.goto(f"/workspace/evaluation/applications/{application.uuid}/edit/")
    assert missing(page) == 4
    page.fill("#id_summary", "济南传统名品。")
    page.fill("#id_competitors", "not-a-code")
    page.click("button:has-text('保存基本情况')")
    expect(page.locator("#field-competitors .errorlist")).to_contain_text("第 1 个竞争对手")
    expect(page.locator("#id_summary")).to_have_value("济南传统名品。")  # kept for correction
    page.fill("#id_competitors", "")
    page.check("text=泉城酥锅")
    page.click("button:has-text('保存基本情况')")
    expect(page.locator(".messages .msg.success")).to_contain_text("基本情况已保存")
    assert missing(page) == 2

    # The city bureau sends a submitted application back, without JavaScript.
    application.refresh_from_db()
    for code in [i.code for i in application.rule_set.indicators.filter(parent__isnull=False)]:
        services.application_set_self_assessment(
            actor=province.alice, application=application, scores={code: "10"}
        )
    services.application_sign_declaration(actor=province.alice, application=application, name="李明")
    services.application_submit(actor=province.alice, application=application)
    sign_in_without_js(page, province.city_jinan)
    page.goto(application.get_absolute_url())
    page.click("#action-return summary")
    page.fill("#id_return-opinion", "请补充质量检测报告。")
    page.fill("#id_return-deadline", (timezone.localdate() + dt.timedelta(days=10)).isoformat())
    page.click("#action-return button[type=submit]")
    expect(page.locator(".callout")).to_contain_text("请补充质量检测报告。")
    application.refresh_from_db()
    assert application.status == S.RETURNED


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
