"""The office's public-notice to-dos (registered by ``EvaluationConfig.ready`` with
``workspace.register_todo(todo)``)."""

from __future__ import annotations

from typing import Any

from haopin.core.workspace import TodoItem
from haopin.evaluation import policies
from haopin.evaluation.models import Objection
from haopin.notifications import links


def todo(user: Any) -> list[TodoItem]:
    if not policies.is_office(user):
        return []
    waiting = Objection.objects.filter(status=Objection.Status.OPEN).count()
    url = links.url_for("evaluation:objection-list", query="status=open", fallback=links.notifications_page())
    return [TodoItem("件公示异议待答复", waiting, url, hint="异议答复前，该批次不能发布结果。")]
