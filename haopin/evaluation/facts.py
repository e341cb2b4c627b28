"""The facts an application offers to the automatic eligibility criteria, and the eligibility
that follows from them and from the reviewer's checks.

``application_facts`` maps each ``Criterion.Metric`` to a value read from the application:

- ``years_registered``: full years from the enterprise's founding date to the batch's
  application deadline (registry enterprises are located in Shandong counties, so the founding
  date is the date of registration in Shandong). The deadline is the date the programme's rule
  "registered in Shandong for at least N years" is read against: an enterprise founded in
  March 2020 is "5 years" in a batch whose window closes in June 2025, not in one closing in
  January 2025;
- ``revenue`` and ``rd_ratio``: the figures of the last year before the batch year (万元; R&D
  spend as a percentage of revenue, None when revenue is zero);
- ranks and the two clean-record declarations as the applicant stated them.

A missing fact leaves the criterion to the reviewer (``standards.criteria.evaluate``); the
reviewer records manual criteria and may overrule a missing figure with a note, never a figure
that is present (automatic criteria are recomputed from the application every time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from haopin.evaluation.models import Application, CriterionCheck, Figure, VetoFinding
from haopin.standards import criteria as criteria_engine
from haopin.standards.criteria import Outcome
from haopin.standards.models import Criterion


def full_years(start: dt.date, end: dt.date) -> int:
    """Completed years from ``start`` to ``end`` (a birthday-style count; 0 if end < start)."""
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    return max(years, 0)


def reference_date(application: Application) -> dt.date:
    return application.batch.apply_until


def last_year_figure(application: Application, figures: Iterable[Figure] | None = None) -> Figure | None:
    rows = application.figures.all() if figures is None else figures
    target = application.batch.year - 1
    return next((f for f in rows if f.year == target), None)


def application_facts(application: Application, *, figures: Iterable[Figure] | None = None) -> dict[str, Any]:
    """The value of every automatic metric for ``application`` (None when not provided)."""
    founded = application.enterprise.founded_on
    last = last_year_figure(application, figures)
    M = Criterion.Metric
    return {
        M.YEARS_REGISTERED: full_years(founded, reference_date(application)) if founded else None,
        M.REVENUE: last.revenue if last else None,
        M.RD_RATIO: last.rd_ratio if last else None,
        M.NATIONAL_RANK: application.national_rank,
        M.PROVINCIAL_RANK: application.provincial_rank,
        M.CREDIT_CLEAN: application.credit_clean,
        M.INSPECTION_CLEAN: application.inspection_clean,
    }


@dataclass(frozen=True)
class Eligibility:
    """The criteria of the application's rule set, each decided by data or by the reviewer."""

    outcomes: list[Outcome]
    verdict: bool | None
    problems: list[str]
    checks: dict[int, CriterionCheck] = field(default_factory=dict)  # criterion id → check

    @property
    def met(self) -> bool:
        return self.verdict is True and not self.problems


def _label(criterion: Criterion) -> str:
    return f"资格条件 {criterion.code}“{criterion.text.rstrip('。')}”"


def _decide(outcome: Outcome, check: CriterionCheck | None) -> Outcome:
    """Apply the reviewer's check where the data leave the criterion open."""
    if outcome.met is not None or check is None:
        return outcome
    shown = "满足" if check.met else "不满足"
    note = f"（{check.note}）" if check.note else ""
    prefix = "审查人员核实" if outcome.criterion.is_automatic else "审查人员判定"
    return dataclasses.replace(outcome, met=check.met, explanation=f"{prefix}：{shown}{note}")


def _problems(outcomes: list[Outcome]) -> list[str]:
    problems: list[str] = []
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        criterion = outcome.criterion
        if criterion.group:
            groups.setdefault(criterion.group, []).append(outcome)
        elif outcome.met is False:
            problems.append(f"{_label(criterion)}不满足：{outcome.explanation}")
        elif outcome.met is None:
            if criterion.is_automatic:
                problems.append(f"{_label(criterion)}：{outcome.explanation}")
            else:
                problems.append(f"{_label(criterion)}尚未人工审查")
    for members in groups.values():
        if any(m.met is True for m in members):
            continue
        codes = "、".join(m.criterion.code for m in members)
        reasons = "；".join(f"{m.criterion.code} {m.explanation}" for m in members)
        if all(m.met is False for m in members):
            problems.append(f"资格条件 {codes}（满足其一即可）均不满足：{reasons}")
        else:
            problems.append(f"资格条件 {codes}（满足其一即可）尚无一项确认满足：{reasons}")
    return problems


def eligibility(application: Application) -> Eligibility:
    """Evaluate the bound rule set's criteria against the application and the reviewer's checks."""
    criteria = list(application.rule_set.criteria.all())
    checks = {c.criterion_id: c for c in application.criterion_checks.all()}
    computed = criteria_engine.evaluate(criteria, application_facts(application))
    outcomes = [_decide(o, checks.get(o.criterion.pk)) for o in computed]
    return Eligibility(
        outcomes=outcomes,
        verdict=criteria_engine.verdict(outcomes),
        problems=_problems(outcomes),
        checks=checks,
    )


def veto_problems(findings: Iterable[VetoFinding]) -> list[str]:
    """Veto findings that stop the application going further: pending or confirmed ones."""
    problems = []
    for finding in findings:
        item = finding.veto_item
        label = f"否决情形 {item.code}“{item.text.rstrip('。')}”"
        if finding.status == VetoFinding.Status.RAISED:
            problems.append(f"{label}尚待核实")
        elif finding.status == VetoFinding.Status.CONFIRMED:
            problems.append(f"{label}已核实，应作不予通过处理")
    return problems
