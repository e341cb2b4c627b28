"""Automatic checks of eligibility criteria against an application's figures.

Criteria with a metric are decided by data (years registered in Shandong, revenue, R&D ratio,
national or provincial rank, credit and inspection records); the others are left to the
reviewer. Criteria sharing a ``group`` are alternatives ("top 20 nationally or top 5 in the
province"): the group is met when any member is met.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from haopin.standards.models import Criterion

Op = Criterion.Operator


@dataclass(frozen=True)
class Outcome:
    criterion: Criterion
    met: bool | None  # None: a reviewer must decide (manual, or the figure is missing)
    value: Any = None
    explanation: str = ""


def _compare(value: Any, operator: str, threshold: Decimal | None) -> bool:
    if operator == Op.IS_TRUE:
        return bool(value)
    number = Decimal(str(value))
    assert threshold is not None
    results: dict[str, bool] = {
        Op.GE: number >= threshold,
        Op.GT: number > threshold,
        Op.LE: number <= threshold,
        Op.LT: number < threshold,
    }
    return results[operator]


def evaluate(criteria: Iterable[Criterion], facts: Mapping[str, Any]) -> list[Outcome]:
    outcomes = []
    for criterion in criteria:
        if not criterion.is_automatic:
            outcomes.append(Outcome(criterion, None, None, "人工审查"))
            continue
        value = facts.get(criterion.metric)
        label = Criterion.Metric(criterion.metric).label
        if value is None or value == "":
            outcomes.append(Outcome(criterion, None, None, f"申报材料未提供“{label}”，需人工核实"))
            continue
        met = _compare(value, criterion.operator, criterion.threshold)
        if criterion.operator == Op.IS_TRUE:
            shown = "是" if value else "否"
            explanation = f"{label}：{shown}"
        else:
            assert criterion.threshold is not None  # _compare checked it
            threshold = format(criterion.threshold.normalize(), "f")
            explanation = f"{label} {value}，要求 {Op(criterion.operator).label} {threshold}"
        outcomes.append(Outcome(criterion, met, value, explanation))
    return outcomes


def verdict(outcomes: Iterable[Outcome]) -> bool | None:
    """False if some requirement is certainly not met; True if all are met; None if a reviewer
    still has to decide something."""
    groups: dict[str, list[Outcome]] = {}
    singles: list[Outcome] = []
    for outcome in outcomes:
        if outcome.criterion.group:
            groups.setdefault(outcome.criterion.group, []).append(outcome)
        else:
            singles.append(outcome)
    results: list[bool | None] = [o.met for o in singles]
    for members in groups.values():
        if any(m.met is True for m in members):
            results.append(True)
        elif all(m.met is False for m in members):
            results.append(False)
        else:
            results.append(None)
    if any(r is False for r in results):
        return False
    if all(r is True for r in results):
        return True
    return None
