"""Writes of the evaluation domain: batches, applications and their review.

Audit actions of the whole domain are declared here (the expert draw, scoring and public notice
modules record them too).
"""

from __future__ import annotations

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
