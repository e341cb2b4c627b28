"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Each test module marks itself ``pytestmark = E2E``: the live server runs in another thread
with its own database connection (on PostgreSQL), so tests use a transactional database; the
root conftest reloads the reference data that the truncation at the end of each one removes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from conftest import PASSWORD

E2E = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach Google's hosts,
# which this closed network refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(autouse=True)
def _static_files_by_name(settings):
    """Serve static files under their plain names in the live server.

    pytest-django's live server answers /static/ with Django's finders, which do not know the
    hashed names that the manifest storage puts in pages: without this, htmx and the CSS are
    404 in the browser. (The hashed names themselves are exercised by every non-browser test,
    which renders pages through the manifest.)
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page: Page):
    """Sign in through the login form: ``login(province.alice)``."""

    def sign_in(user) -> Page:
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/workspace/**")
        return page

    return sign_in
