"""Signing in and out in a real browser."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import E2E

pytestmark = E2E


def test_login_shows_workspace_and_wrong_password_is_explained(page, province):
    page.goto("/workspace/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "alice")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.text_content("[role=alert]")
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url("**/workspace/")
    assert "alice" in page.text_content("h1")
    assert page.text_content("#todo-title") == "待办事项"
    assert "泉城食品有限公司" in page.text_content(".topbar")


@pytest.mark.parametrize("username", ["office"])
def test_logout(page, province, login, username):
    login(getattr(province, username))
    page.click("text=退出")
    page.wait_for_url("**/accounts/login/")
