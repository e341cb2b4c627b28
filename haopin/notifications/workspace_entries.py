"""The notifications page in the workspace navigation, and unread notifications as a to-do.

Registered by ``NotificationsConfig.ready``:
``workspace.register_nav(*NAV)`` and ``workspace.register_todo(todo)``.
"""

from __future__ import annotations

from typing import Any

from haopin.core.workspace import NavItem, TodoItem
from haopin.notifications import links, selectors


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


NAV = (NavItem("工作台", "通知", "notifications:list", _signed_in, order=20),)


def todo(user: Any) -> list[TodoItem]:
    if not _signed_in(user):
        return []
    return [TodoItem("条未读通知", selectors.unread_count(user), links.notifications_page())]
