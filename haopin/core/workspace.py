"""The workspace's navigation and to-do list ("待办"), contributed by each domain.

Each app registers its menu entries and to-do providers in ``AppConfig.ready``; a menu entry
is shown only when its ``visible`` predicate (which asks the domain's policy) allows, so the
navigation is role-aware without any role check in a template.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    group: str
    label: str
    url_name: str
    visible: Callable[[Any], bool]
    order: int = 100


@dataclass(frozen=True)
class TodoItem:
    label: str
    count: int
    url: str
    hint: str = ""


_NAV: list[NavItem] = []
_TODO: list[Callable[[Any], list[TodoItem]]] = []
_STATS: list[Callable[[Any], list[tuple[str, int]]]] = []

GROUP_ORDER = ["工作台", "品牌登记", "评价管理", "证书管理", "监督管理", "单位与专家", "系统"]


def register_nav(*items: NavItem) -> None:
    for item in items:
        if item not in _NAV:
            _NAV.append(item)


def register_todo(provider: Callable[[Any], list[TodoItem]]) -> None:
    if provider not in _TODO:
        _TODO.append(provider)


def register_stats(provider: Callable[[Any], list[tuple[str, int]]]) -> None:
    """A provider of (label, number) figures for the home page, within the user's scope."""
    if provider not in _STATS:
        _STATS.append(provider)


def navigation(user: Any, current_path: str = "") -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in sorted(_NAV, key=lambda i: i.order):
        if not item.visible(user):
            continue
        url = reverse(item.url_name)
        active = current_path == url or (url != "/workspace/" and current_path.startswith(url))
        groups.setdefault(item.group, []).append({"label": item.label, "url": url, "active": active})
    ordered = sorted(
        groups.items(), key=lambda kv: GROUP_ORDER.index(kv[0]) if kv[0] in GROUP_ORDER else len(GROUP_ORDER)
    )
    return [{"group": name, "items": items} for name, items in ordered]


def todo_list(user: Any) -> list[TodoItem]:
    items: list[TodoItem] = []
    for provider in _TODO:
        items.extend(item for item in provider(user) if item.count)
    return items


def stats(user: Any) -> list[tuple[str, int]]:
    figures: list[tuple[str, int]] = []
    for provider in _STATS:
        figures.extend(provider(user))
    return figures
