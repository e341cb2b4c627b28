"""What the evaluation domain puts on each user's to-do list (待办), for ``core.workspace``.

- applicants: drafts still to complete in an open batch, and returned applications still
  within their correction deadline;
- recommending units (city and county bureaus, departments): submitted applications waiting
  for their recommendation;
- the office: applications waiting at each of its stages, and veto findings to verify.

Counts come from ``todo_counts`` (one grouped query per role), which the tests check directly;
``todo_items`` turns them into links to the application list filtered by status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils import timezone

from haopin.core.policies import ScopeKind, scope_of
from haopin.core.workspace import TodoItem
from haopin.evaluation import policies, selectors
from haopin.evaluation.models import Application, Batch, VetoFinding
from haopin.notifications import links

S = Application.Status

APPLICATION_LIST = "evaluation:application-list"

# The office's stages, in the order of the procedure, with the to-do label of each.
OFFICE_STAGES = [
    (S.RECOMMENDED, "待资格审查的申报", "审查资格条件和否决项"),
    (S.QUALIFIED, "待舆情与信用核查的申报", ""),
    (S.CHECKED, "待抽取评审专家的申报", "按类别抽取专家后进入专家评审"),
    (S.REVIEWED, "待征求部门意见的申报", ""),
    (S.CONSULTED, "待结果审定的申报", ""),
    (S.APPROVED, "待公示的申报", "全部申报作出决定后发布公示"),
]


@dataclass(frozen=True)
class TodoCount:
    label: str
    count: int
    status: str = ""
    hint: str = ""


def todo_counts(user: Any) -> list[TodoCount]:
    scope = scope_of(user)
    if not scope.can_write:
        return []
    if policies.is_office(user):
        return _office_counts()
    if scope.kind == ScopeKind.ORGANISATION:
        return _applicant_counts(user)
    if scope.kind in {ScopeKind.REGION, ScopeKind.DEPARTMENT}:
        count = selectors.applications_to_recommend(user).count()
        return [TodoCount("待推荐的申报", count, S.SUBMITTED, "审核申报材料并提出推荐意见")]
    return []


def _office_counts() -> list[TodoCount]:
    statuses = [status for status, _, _ in OFFICE_STAGES]
    rows = Application.objects.filter(status__in=statuses).order_by().values("status").annotate(n=Count("pk"))
    counts = {row["status"]: row["n"] for row in rows}
    items = [TodoCount(label, counts.get(status, 0), status, hint) for status, label, hint in OFFICE_STAGES]
    findings = VetoFinding.objects.filter(status=VetoFinding.Status.RAISED).count()
    items.append(TodoCount("待核实的否决情形", findings, "", "核实后确认否决或认定不成立"))
    return items


def _applicant_counts(user: Any) -> list[TodoCount]:
    today = timezone.localdate()
    mine = policies.applications_for_user(user)
    drafts = mine.filter(
        status=S.DRAFT, batch__status=Batch.Status.OPEN, batch__apply_until__gte=today
    ).count()
    returned = mine.filter(status=S.RETURNED, return_deadline__gte=today).count()
    return [
        TodoCount("待完善提交的申报", drafts, S.DRAFT, "填写经济指标、自评和承诺后提交"),
        TodoCount("退回修改的申报", returned, S.RETURNED, "请在整改期限内修改后重新提交"),
    ]


def todo_items(user: Any) -> list[TodoItem]:
    """The to-do provider registered with ``core.workspace.register_todo``."""
    items = []
    for entry in todo_counts(user):
        query = f"status={entry.status}" if entry.status else ""
        url = links.url_for(APPLICATION_LIST, query=query, fallback=links.notifications_page())
        items.append(TodoItem(entry.label, entry.count, url, entry.hint))
    return items
