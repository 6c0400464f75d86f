"""Plots a check attaches: write latency and replica lag over the time of a disruption.

Pure: numbers in, PNG bytes out (matplotlib's Agg backend, no display). A reviewer sees
at a glance when writes stalled, failed or resumed, and how far each replica fell behind.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: files only, never a window

import matplotlib.pyplot as plt

Point = tuple[float, float]


def latency_and_lag(
    writes: Mapping[str, Sequence[Point]],
    lag: Mapping[str, Sequence[Point]],
    events: Sequence[tuple[float, str]] = (),
    *,
    title: str = "",
) -> bytes:
    """Two panels over seconds since the start: the latency of each write by its outcome
    (acknowledged, failed, unknown), and each replica's Seconds_Behind_Master. ``events``
    (time, label) are drawn as vertical lines on both: the fault and its undoing."""
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 5.5), dpi=100)
    markers = {"acknowledged": ".", "failed": "x", "unknown": "o"}
    for outcome, points in writes.items():
        if points:
            xs, ys = zip(*points, strict=True)
            top.scatter(xs, ys, s=6, marker=markers.get(outcome, "."), label=outcome)
    top.set_ylabel("write latency (s)")
    top.set_yscale("log")
    for pod, points in lag.items():
        if points:
            xs, ys = zip(*points, strict=True)
            bottom.step(xs, ys, where="post", label=pod)
    bottom.set_ylabel("replica lag (s)")
    bottom.set_xlabel("seconds since the writers started")
    for axes in (top, bottom):
        for when, label in events:
            axes.axvline(when, color="grey", linestyle="--", linewidth=0.8)
            if axes is top:
                axes.annotate(label, (when, 1), xycoords=("data", "axes fraction"), fontsize=7)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(loc="upper right", fontsize=7)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _png(figure: Any) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def clone_time_vs_size(
    points: Sequence[Point], line: tuple[float, float] | None, *, title: str = ""
) -> bytes:
    """Clone time (s) against data size (MB), with the fitted line (slope, intercept)."""
    figure, axes = plt.subplots(figsize=(6.5, 4), dpi=100)
    if points:
        xs, ys = zip(*points, strict=True)
        axes.scatter(xs, ys, label="measured")
        if line is not None:
            top = max(xs) * 1.05
            slope, intercept = line
            axes.plot(
                [0, top],
                [intercept, intercept + slope * top],
                linestyle="--",
                label=f"{slope:.3f} s/MB x size + {intercept:.1f} s",
            )
        axes.legend(fontsize=8)
    axes.set_xlabel("InnoDB data (MB)")
    axes.set_ylabel("scale-out to caught up (s)")
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0)
    if title:
        axes.set_title(title, fontsize=9)
    return _png(figure)


def lag_distribution(lags: Mapping[str, Sequence[float]], *, title: str = "") -> bytes:
    """One box per label (a write rate on a replica): the lag of every heartbeat (ms)."""
    figure, axes = plt.subplots(figsize=(max(6.5, 1.2 * len(lags)), 4), dpi=100)
    labels = [label for label, values in lags.items() if values]
    axes.boxplot(
        [[v * 1000 for v in lags[label]] for label in labels],
        tick_labels=labels,
        whis=(1, 99),
        showfliers=True,
    )
    axes.set_ylabel("replication lag (ms; whiskers p1-p99)")
    axes.tick_params(axis="x", labelsize=7, rotation=20)
    if title:
        axes.set_title(title, fontsize=9)
    return _png(figure)


def lag_over_time(series: Mapping[str, Sequence[Point]], *, title: str = "") -> bytes:
    """Each replica's lag (ms) against seconds since the load started."""
    figure, axes = plt.subplots(figsize=(9, 3.5), dpi=100)
    for label, points in series.items():
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, [y * 1000 for y in ys], linewidth=0.8, label=label)
    axes.set_xlabel("seconds since the load started")
    axes.set_ylabel("replication lag (ms)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=7, loc="upper right")
    if title:
        axes.set_title(title, fontsize=9)
    return _png(figure)
