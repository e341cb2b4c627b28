"""The office runs a batch in a real browser: it opens the batch from the batch's page and, once
the applications have passed the checks, draws the expert panels for a rule set with a public
seed, checks the draw, aggregates the scores and reads the ranking. The stages in between (the
applications, the experts' declarations and score sheets) are taken through the services, which
the other tests cover."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import Page, expect

from haopin.core.models import Category
from haopin.evaluation import services
from haopin.evaluation.models import Application, Batch, PanelDraw
from haopin.evaluation.tests.test_experts import applicant, pool, small_rule_set
from haopin.evaluation.tests.test_scoring import score_all
from tests.e2e.conftest import E2E

pytestmark = E2E

S = Application.Status
# Screenshots for a person to look at (HAOPIN_SCREENSHOTS=/some/dir); the tests do not need them.
SHOTS = os.environ.get("HAOPIN_SCREENSHOTS", "")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS, f"{name}.png")), full_page=True)


def test_the_office_opens_a_batch_then_draws_panels_and_reads_the_ranking(page, province, login):
    today = timezone.localdate()
    food = Category.objects.get(code="201")
    rule_set = small_rule_set(province.office, food, province.product_type)
    batch = services.batch_create(
        actor=province.office,
        year=today.year,
        sequence=2,
        title=f"{today.year}年第二批“好品山东”品牌评价",
        apply_from=today - dt.timedelta(days=1),
        apply_until=today + dt.timedelta(days=30),
        panel_size=3,
        reserve_size=1,
        avoid_same_city=False,
    )
    services.batch_rule_set_attach(actor=province.office, batch=batch, rule_set=rule_set)
    page.on("dialog", lambda dialog: dialog.accept())  # the buttons ask before they act

    login(province.office)
    page.goto(batch.get_absolute_url())
    expect(page.locator("#batch-status")).to_have_text("草稿")
    expect(page.locator("#rule-sets")).to_contain_text(rule_set.title)
    shot(page, "batch-draft")
    page.get_by_role("button", name="开始申报").click()
    expect(page.locator(".msg.success")).to_contain_text("已开始申报")
    expect(page.locator("#batch-status")).to_have_text("申报中")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.OPEN

    # Weeks later: the window has closed and three applications passed the checks.
    services.batch_close_applications(actor=province.office, batch=batch)
    pool(4, categories=[food])
    first, second, third = (
        applicant(batch, rule_set, creator=province.office, status=S.CHECKED) for _ in range(3)
    )

    page.goto(batch.get_absolute_url())
    expect(page.locator("#batch-status")).to_have_text("评审中")
    page.get_by_role("link", name="专家与评分").click()
    expect(page.locator("#waiting-count")).to_have_text("3")
    page.fill("#id_seed", "2025-05-20 体彩排列五 37519")
    shot(page, "batch-rule-set-before-draw")
    page.get_by_role("button", name="抽取专家").click()
    page.wait_for_url("**/draws/*/")
    expect(page.locator("#seed")).to_have_text("2025-05-20 体彩排列五 37519")
    expect(page.locator(".msg.success")).to_contain_text("已为 3 件申报抽取评审专家")
    page.get_by_role("link", name="复核：按记录的种子重新计算").click()
    expect(page.locator("#check")).to_contain_text("抽取结果与记录完全一致")
    shot(page, "draw-detail")
    draw = PanelDraw.objects.get()
    assert draw.seed == "2025-05-20 体彩排列五 37519"

    # The experts declare and score (their own pages are tested elsewhere).
    score_all(first, [88, 90, 92])
    score_all(second, [75, 76, 77])
    score_all(third, [75, 76, 77])

    page.goto(f"{batch.get_absolute_url()}rule-sets/{rule_set.uuid}/")
    expect(page.locator("#panels")).to_contain_text("3/3")
    page.get_by_role("button", name="汇总评审结果").click()
    page.wait_for_url("**/ranking/")
    expect(page.locator(".msg.success")).to_contain_text("已汇总 3 件申报")
    rows = page.locator("#ranking tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(first.number)
    expect(rows.nth(0)).to_contain_text("90.00")
    expect(rows.nth(1)).to_contain_text("并列")
    shot(page, "ranking")
    page.get_by_role("link", name=first.number).click()
    expect(page.locator("#total")).to_have_text("90.00")
    shot(page, "scoring-sheet")
    first.refresh_from_db()
    assert (first.rank, first.status) == (1, S.REVIEWED)
