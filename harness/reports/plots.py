"""The comparison's PNG plots (Agg backend, no pyplot state): per-metric means and paired
differences, and latency distributions with candidate/baseline ratios. Embedded in comparison.html
as data URIs and written beside it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.records.comparison import Comparison
    from harness.records.evaluation import Evaluation

VERDICT_COLORS = {"better": "#1a7f37", "worse": "#cf222e", "no significant difference": "#6e7781"}


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # the Agg backend, without touching pyplot's global state
    return fig


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def metrics_plot(c: Comparison) -> bytes:
    """Per-metric bars (each version's mean with its 95% CI) and the paired Δ with its CI, coloured by verdict."""
    import numpy as np

    metrics = [m for m in c.metrics if m.n]
    fig = _figure(11, 0.9 + 0.55 * max(3, len(metrics)))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    y = np.arange(len(metrics))
    for offset, (label, version, mean_of) in enumerate(
        [
            ("baseline", c.baseline, lambda m: m.baseline),
            ("candidate", c.candidate, lambda m: m.candidate),
        ]
    ):
        means = [mean_of(m) for m in metrics]
        errors = [[0.0] * len(metrics), [0.0] * len(metrics)]
        for i, m in enumerate(metrics):
            estimate = version.metric_estimate(m.metric) if version is not None else None
            if estimate is not None and estimate.low == estimate.low:
                errors[0][i] = max(0.0, means[i] - estimate.low)
                errors[1][i] = max(0.0, estimate.high - means[i])
        left.barh(
            y + (0.2 if offset == 0 else -0.2),
            means,
            height=0.38,
            xerr=errors,
            capsize=3,
            color="#8c959f" if offset == 0 else "#0969da",
            label=f"{label}",
        )
    left.set_yticks(y, [m.metric for m in metrics])
    left.invert_yaxis()
    left.set_xlim(0, 1.05)
    left.set_xlabel("mean score (95% CI)")
    left.legend(loc="lower right", fontsize=8)
    left.set_title("Per metric")
    colors = [VERDICT_COLORS.get(m.verdict, "#6e7781") for m in metrics]
    deltas = [m.delta for m in metrics]
    err = [[max(0.0, m.delta - m.ci_low) for m in metrics], [max(0.0, m.ci_high - m.delta) for m in metrics]]
    right.barh(y, deltas, color=colors, xerr=err, capsize=3, height=0.5)
    right.axvline(0, color="black", linewidth=0.8)
    for i, m in enumerate(metrics):
        if m.margin:
            right.plot([-m.margin, -m.margin], [i - 0.35, i + 0.35], color="#9a6700", linestyle="--", linewidth=1)
    right.set_yticks(y, [f"{m.metric}: {m.verdict}" for m in metrics])
    right.invert_yaxis()
    right.yaxis.tick_right()
    right.set_xlabel("Δ candidate − baseline (95% CI; dashed: −margin)")
    right.set_title(f"Paired difference, {c.n_shared} cases")
    return _png(fig)


def latency_plot(evaluation: Evaluation) -> bytes:
    """Per-case latency distributions (ECDF) of every version, and the candidate/baseline ratios with CIs."""
    import numpy as np

    fig = _figure(11, 3.8)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
    positive = True
    for version in evaluation.versions:
        values = np.sort(np.asarray(version.latencies_ms, dtype=float))
        if values.size == 0:
            continue
        positive = positive and bool(values.min() > 0)
        left.step(
            values,
            np.arange(1, values.size + 1) / values.size,
            where="post",
            label=f"{version.label} (n={values.size})",
        )
    if positive:
        left.set_xscale("log")
    left.set_xlabel("latency per case, ms")
    left.set_ylabel("fraction of cases")
    left.set_title("Latency distributions")
    if left.lines:
        left.legend(loc="lower right", fontsize=8)
    rows = [
        (f"{r.percentile} vs {c.baseline_label}", r)
        for c in evaluation.comparisons
        for r in c.latency
        if r.ratio == r.ratio
    ]
    if rows:
        y = np.arange(len(rows))
        ratios = [r.ratio for _, r in rows]
        lows = [max(0.0, r.ratio - r.ci_low) if r.ci_low == r.ci_low else 0.0 for _, r in rows]
        highs = [max(0.0, r.ci_high - r.ratio) if r.ci_high == r.ci_high else 0.0 for _, r in rows]
        right.barh(
            y,
            ratios,
            xerr=[lows, highs],
            capsize=3,
            height=0.5,
            color=[VERDICT_COLORS.get(r.verdict, "#6e7781") for _, r in rows],
        )
        right.axvline(1, color="black", linewidth=0.8)
        right.set_yticks(y, [label for label, _ in rows])
        right.invert_yaxis()
    right.set_xlabel("candidate / baseline (95% CI)")
    right.set_title("Latency ratio")
    return _png(fig)


def metrics_plot_name(index: int) -> str:
    return "comparison_metrics.png" if index == 0 else f"comparison_metrics_{index + 1}.png"


def write_plots(evaluation: Evaluation, report_dir: Path) -> dict[str, bytes]:
    """Write the PNG plots; returns file name -> bytes (embedded in comparison.html)."""
    plots: dict[str, bytes] = {}
    for i, comparison in enumerate(evaluation.comparisons):
        plots[metrics_plot_name(i)] = metrics_plot(comparison)
    plots["comparison_latency.png"] = latency_plot(evaluation)
    for name, data in plots.items():
        (report_dir / name).write_bytes(data)
    return plots
