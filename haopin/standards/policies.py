"""Who may see and change standards and rule sets.

- The standards catalogue is public information: every signed-in user sees it (the portal will
  show it to everyone); the office and platform admins maintain it.
- Published and retired rule sets are seen by every signed-in user (applicants assess themselves
  against them, experts score with them); drafts only by the office and admins, who alone write.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from haopin.core.policies import ScopeKind, scope_of
from haopin.standards.models import RuleSet, Standard


def can_maintain(user: Any) -> bool:
    scope = scope_of(user)
    return scope.kind == ScopeKind.ALL and scope.can_write


def standards_for_user(user: Any) -> QuerySet[Standard]:
    if getattr(user, "is_authenticated", False):
        return Standard.objects.all()
    return Standard.objects.filter(status=Standard.Status.CURRENT)


def rule_sets_for_user(user: Any) -> QuerySet[RuleSet]:
    if scope_of(user).kind == ScopeKind.ALL:
        return RuleSet.objects.all()
    if getattr(user, "is_authenticated", False):
        return RuleSet.objects.exclude(status=RuleSet.Status.DRAFT)
    return RuleSet.objects.none()


def can(user: Any, action: str, obj: Any) -> bool:
    if action == "view":
        if isinstance(obj, RuleSet):
            return rule_sets_for_user(user).filter(pk=obj.pk).exists()
        return standards_for_user(user).filter(pk=obj.pk).exists()
    if action == "change" and isinstance(obj, RuleSet):
        return can_maintain(user) and obj.is_editable
    if action in {"publish", "new_version", "retire", "change"}:
        return can_maintain(user)
    return False
