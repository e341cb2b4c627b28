"""The review of an application and the life of a batch, as transition tables.

Application (DOMAIN.md's selection procedure):

    draft ─submit→ submitted ─recommend→ recommended ─qualify→ qualified ─check→ checked
      ─start_review→ expert_review ─complete_review→ reviewed ─consult→ consulted ─approve→
      approved ─open_notice→ notice ─publish→ published

Every stage before the expert review and after it can ``return`` the application for
correction (with a deadline) — the corrected application is submitted again and climbs the
stages again — or ``reject`` it with reasons; the applicant can ``withdraw`` until the expert
review starts. The moves that whole batches make together (start_review, complete_review,
open_notice, publish) are taken by batch services, one application at a time through the same
table, so that each application's history is complete.
"""

from __future__ import annotations

from haopin.core.workflow import Transition
from haopin.evaluation import policies
from haopin.evaluation.models import Application, Batch

S = Application.Status

RETURNABLE: set[str] = {S.SUBMITTED, S.RECOMMENDED, S.QUALIFIED, S.CHECKED, S.REVIEWED, S.CONSULTED}
REJECTABLE: set[str] = {
    S.SUBMITTED,
    S.RECOMMENDED,
    S.QUALIFIED,
    S.CHECKED,
    S.EXPERT_REVIEW,
    S.REVIEWED,
    S.CONSULTED,
    S.APPROVED,
    S.NOTICE,
}
WITHDRAWABLE: set[str] = {S.DRAFT, S.SUBMITTED, S.RECOMMENDED, S.QUALIFIED, S.CHECKED, S.RETURNED}
# Statuses in which an application still awaits a decision of the batch's review.
UNDECIDED = {
    S.SUBMITTED,
    S.RECOMMENDED,
    S.QUALIFIED,
    S.CHECKED,
    S.EXPERT_REVIEW,
    S.REVIEWED,
    S.CONSULTED,
    S.RETURNED,
}
FINAL = {S.PUBLISHED, S.REJECTED, S.WITHDRAWN}

APPLICATION_TRANSITIONS: dict[str, Transition] = {
    "submit": Transition({S.DRAFT, S.RETURNED}, S.SUBMITTED, "提交申报", policies.is_applicant),
    "recommend": Transition(
        {S.SUBMITTED}, S.RECOMMENDED, "推荐", policies.is_recommender, needs=("opinion",)
    ),
    "qualify": Transition({S.RECOMMENDED}, S.QUALIFIED, "资格审查通过", policies.office, needs=("opinion",)),
    "check": Transition({S.QUALIFIED}, S.CHECKED, "舆情与信用核查通过", policies.office, needs=("opinion",)),
    "start_review": Transition({S.CHECKED}, S.EXPERT_REVIEW, "进入专家评审", policies.office),
    "complete_review": Transition({S.EXPERT_REVIEW}, S.REVIEWED, "完成专家评审", policies.office),
    "consult": Transition({S.REVIEWED}, S.CONSULTED, "完成征求意见", policies.office, needs=("opinion",)),
    "approve": Transition({S.CONSULTED}, S.APPROVED, "审定通过", policies.office, needs=("opinion",)),
    "open_notice": Transition({S.APPROVED}, S.NOTICE, "进入公示", policies.office),
    "publish": Transition({S.NOTICE}, S.PUBLISHED, "发布入选", policies.office),
    "return": Transition(
        RETURNABLE,
        S.RETURNED,
        "退回修改",
        policies.is_stage_owner,
        needs=("opinion", "deadline"),
        style="secondary",
    ),
    "reject": Transition(
        REJECTABLE, S.REJECTED, "不予通过", policies.is_stage_owner, needs=("opinion",), style="danger"
    ),
    "withdraw": Transition(WITHDRAWABLE, S.WITHDRAWN, "撤回申报", policies.is_applicant, style="danger"),
}

# Actions taken in the workspace one application at a time (the others are batch operations).
MANUAL_ACTIONS = (
    "submit",
    "recommend",
    "qualify",
    "check",
    "consult",
    "approve",
    "return",
    "reject",
    "withdraw",
)

B = Batch.Status


def _office(user, batch=None) -> bool:
    return policies.is_office(user)


BATCH_TRANSITIONS: dict[str, Transition] = {
    "open": Transition({B.DRAFT}, B.OPEN, "开始申报", _office),
    "close_applications": Transition({B.OPEN}, B.REVIEWING, "截止申报，进入评审", _office),
    "open_notice": Transition({B.REVIEWING}, B.NOTICE, "发布公示", _office),
    "publish": Transition({B.NOTICE}, B.PUBLISHED, "发布结果并发证", _office),
    "close": Transition({B.PUBLISHED}, B.CLOSED, "结束批次", _office),
}
