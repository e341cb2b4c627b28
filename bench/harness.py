"""The small harness every benchmark uses: time a callable, compare with a baseline.

These machines are noisy, so no figure stands alone: each benchmark measures a baseline in the
same run (the health endpoint for pages, openpyxl alone for imports) and reports the ratio.
A ``Result`` also carries the floor from the issue (``limit``) so the report says pass/fail.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    name: str
    seconds: float  # the figure (a median or a single run, see ``note``)
    baseline_name: str = ""
    baseline_seconds: float = 0.0
    limit_seconds: float | None = None  # absolute floor from the issue, if any
    limit_ratio: float | None = None  # ratio floor from the issue, if any
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.seconds / self.baseline_seconds if self.baseline_seconds else None

    @property
    def ok(self) -> bool:
        if self.limit_seconds is not None and self.seconds > self.limit_seconds:
            return False
        ratio = self.ratio
        return not (self.limit_ratio is not None and ratio is not None and ratio > self.limit_ratio)

    def line(self) -> str:
        parts = [f"{self.name:<48} {self.seconds * 1000:10.1f} ms"]
        if self.ratio is not None:
            baseline = f"{self.baseline_name} ({self.baseline_seconds * 1000:.1f} ms)"
            parts.append(f"= {self.ratio:7.2f} × {baseline}")
        limits = []
        if self.limit_seconds is not None:
            limits.append(f"< {self.limit_seconds * 1000:.0f} ms")
        if self.limit_ratio is not None:
            limits.append(f"≤ {self.limit_ratio:g}×")
        if limits:
            parts.append(f"[floor {' and '.join(limits)}: {'ok' if self.ok else 'FAIL'}]")
        if self.note:
            parts.append(f"({self.note})")
        return " ".join(parts)


def median_seconds(fn: Callable[[], Any], *, repeat: int = 30, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def once_seconds(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value
