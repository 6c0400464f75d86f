"""Plots a check attaches: write latency and replica lag over the time of a disruption.

Pure: numbers in, PNG bytes out (matplotlib's Agg backend, no display). A reviewer sees
at a glance when writes stalled, failed or resumed, and how far each replica fell behind.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

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
