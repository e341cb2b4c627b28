"""The API docs page in a real browser: loads offline, obeys the site's CSP, and works."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.e2e.conftest import E2E

pytestmark = E2E


def test_docs_render_offline_under_csp_and_try_it_out_works(page, live_server, province, login):
    login(province.alice)
    problems: list[str] = []
    page.on("console", lambda msg: msg.type in {"error", "warning"} and problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))

    page.goto("/api/v1/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 16
    assert "好品山东 API" in page.text_content(".info .title")

    # A session-authenticated call from the page (the CSRF token travels in a data attribute).
    page.locator(".opblock-summary", has_text="/api/v1/me").first.click()
    page.click("button.try-out__btn")
    page.click("button.execute")
    status = page.locator(".live-responses-table .response .response-col_status").first
    assert status.inner_text().strip() == "200"
    assert '"username": "alice"' in page.text_content(".live-responses-table .microlight")

    assert hosts == {urlsplit(live_server.url).netloc}
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
