"""Writes of the evaluation domain: batches, applications and their review.

Audit actions of the whole domain are declared here (the expert draw, scoring and public notice
modules record them too).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from haopin.core import audit, workflow
from haopin.core.policies import scope_of
from haopin.evaluation.models import Application, Decision
from haopin.evaluation.workflow import APPLICATION_TRANSITIONS

AUDIT_ACTIONS = {
    "evaluation.batch.created": "创建评价批次",
    "evaluation.batch.updated": "修改评价批次",
    "evaluation.batch.rules_changed": "调整批次评价细则或名额",
    "evaluation.batch.moved": "批次状态变更",
    "evaluation.application.created": "创建申报",
    "evaluation.application.updated": "修改申报内容",
    "evaluation.application.moved": "申报审查决定",
    "evaluation.application.declaration_signed": "签署真实性承诺",
    "evaluation.application.evidence_added": "上传证明材料",
    "evaluation.application.evidence_removed": "删除证明材料",
    "evaluation.application.criterion_checked": "资格条件审查",
    "evaluation.veto.raised": "提出否决情形",
    "evaluation.veto.resolved": "核实否决情形",
    "evaluation.draw.made": "抽取评审专家",
    "evaluation.assignment.declared": "专家利益冲突声明",
    "evaluation.assignment.replaced": "备选专家递补",
    "evaluation.scores.submitted": "专家提交评分",
    "evaluation.scores.aggregated": "汇总评审结果",
    "evaluation.quota.decided": "名额线同分裁定",
    "evaluation.calendar.changed": "调整节假日安排",
    "evaluation.notice.opened": "发布公示",
    "evaluation.notice.closed": "公示结束",
    "evaluation.objection.lodged": "提出异议",
    "evaluation.objection.answered": "答复异议",
}


# --- moving an application through the review -------------------------------------------------


@transaction.atomic
def application_move(
    *,
    application: Application,
    action: str,
    actor: Any,
    opinion: str = "",
    deadline: dt.date | None = None,
    document: Any = None,
    expected_status: str | None = None,
) -> Application:
    """Apply one move of the review table to ``application`` and record it (Decision + audit).

    Every decision goes through here — from the workspace, the API and batch operations — so
    each application's history is complete. ``expected_status`` (the status the deciding person
    saw) turns a lost race into a clear "already handled by someone else".
    """
    moved = workflow.apply(
        APPLICATION_TRANSITIONS,
        application,
        action,
        actor=actor,
        status_labels=dict(Application.Status.choices),
        expected_status=expected_status,
        opinion=(opinion or "").strip(),
        deadline=deadline,
    )
    locked = moved.obj
    extra: list[str] = []
    if action == "return":
        locked.return_deadline = deadline
        extra.append("return_deadline")
    elif action == "submit":
        locked.return_deadline = None
        extra.append("return_deadline")
    if extra:
        locked.save(update_fields=extra)
    Decision.objects.create(
        application=locked,
        action=action,
        from_status=moved.source,
        to_status=moved.target,
        actor=actor,
        organisation_id=scope_of(actor).organisation_id,
        opinion=(opinion or "").strip(),
        deadline=deadline,
        document=document,
    )
    audit.record(
        "evaluation.application.moved",
        target=locked,
        actor=actor,
        old={"status": moved.source},
        new={
            "status": moved.target,
            "action": action,
            "opinion": (opinion or "").strip(),
            "deadline": deadline,
            "document": getattr(document, "pk", None),
        },
    )
    application.status = locked.status
    return locked
