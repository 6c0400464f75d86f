"""Summaries of measured samples: percentiles and a least-squares line. Pure."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks (the
    method numpy calls 'linear'); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Distribution:
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution:
        return cls(
            count=len(values),
            p50=percentile(values, 50),
            p95=percentile(values, 95),
            p99=percentile(values, 99),
            max=max(values) if values else math.nan,
        )


@dataclass(frozen=True)
class Line:
    """y = slope * x + intercept, fitted by least squares; r2 is how well it fits."""

    slope: float
    intercept: float
    r2: float

    @classmethod
    def fit(cls, xs: Sequence[float], ys: Sequence[float]) -> Line | None:
        """None with fewer than two distinct x values (no line is defined)."""
        if len(xs) != len(ys) or len(set(xs)) < 2:
            return None
        slope, intercept = statistics.linear_regression(xs, ys)
        mean = statistics.fmean(ys)
        total = sum((y - mean) ** 2 for y in ys)
        residual = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
        return cls(slope, intercept, 1.0 - residual / total if total else 1.0)
