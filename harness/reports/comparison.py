"""The A/B comparison reports: comparison.md and the rows it shares with comparison.html (`comparison_html`).

Both open with the gate decision (`harness.reports.decision`). comparison.html is rendered from a
Jinja2 template with autoescape and needs nothing from the network: styles and a small script are
inline, plots are base64 PNGs, and a Content-Security-Policy allows only that one script (by its
hash), so even markup that slipped into the page could not run. Every text that comes from an
answer, a golden case, a scorer or a reference is escaped (and secrets masked) on its way out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from harness.records.comparison import GATE_P_NAME, NOT_GATED, P_HOLM_NAME, P_NAME, PER_CASE
from harness.reports.calls import ENDPOINT_HEADERS, endpoint_rows, measured_lines
from harness.reports.decision import decision_markdown
from harness.reports.format import ms as _ms
from harness.reports.format import num as _num
from harness.secrets.sanitize import md_cell as _md

if TYPE_CHECKING:
    from harness.records.comparison import Comparison
    from harness.records.evaluation import Evaluation
    from harness.records.results import VersionResult

MAX_MD_CASE_ROWS = 40

Redact = Callable[[str], str]


def intro(c: Comparison, code: Callable[[str], str] = lambda ref: f"`{_md(ref)}`") -> str:
    """How the comparison was made; `code` shows a reference (Markdown: a code span; HTML: the template escapes)."""
    dropped = f" ({c.dropped} case(s) dropped: not in both)" if c.dropped else ""
    return (
        f"Candidate {code(c.candidate_reference)} against baseline {code(c.baseline_reference)} on "
        f"{c.n_shared} shared case(s){dropped}. "
        "Δ is candidate − baseline with a paired bootstrap 95% CI; p from exact McNemar (pass/fail metrics) "
        "or Wilcoxon "
        f"signed-rank (scores) at α = {c.alpha:g}: {c.family_text()}. Latency timed on {c.latency_source}."
    )


def metric_rows(c: Comparison) -> list[list[str]]:
    from harness.records.gate import detectable_text

    return [
        [
            m.metric,
            _num(m.baseline),
            _num(m.candidate),
            _num(m.delta, "+.3f"),
            f"[{_num(m.ci_low, '+.3f')}, {_num(m.ci_high, '+.3f')}]",
            *m.p_cells(),
            m.test,
            f"{m.wins} / {m.losses} / {m.ties}",
            detectable_text(m.mdd) if m.gated else NOT_GATED,
            m.verdict,
        ]
        for m in c.metrics
    ]


METRIC_HEADERS = [
    "metric",
    "baseline",
    "candidate",
    "Δ",
    "95% CI of Δ",
    P_NAME,
    P_HOLM_NAME,
    GATE_P_NAME,
    "test",
    "wins / losses / ties",
    "smallest detectable drop",
    "verdict",
]
LATENCY_HEADERS = ["statistic", "baseline ms", "candidate ms", "candidate / baseline", "95% CI", "verdict"]
# How the latency table names each statistic: the per-case row is what latency_ratio_max bounds.
STATISTIC_NAMES: dict[str, str] = {PER_CASE: "per-case ratio (geometric mean; latency_ratio_max)"}


def latency_rows(c: Comparison) -> list[list[str]]:
    return [
        [
            STATISTIC_NAMES.get(r.percentile, r.percentile),
            _ms(r.baseline_ms),
            _ms(r.candidate_ms),
            r.short(),
            f"[{_num(r.ci_low, '.2f')}, {_num(r.ci_high, '.2f')}]",
            r.verdict,
        ]
        for r in c.latency
    ]


def compared_sides(evaluation: Evaluation, c: Comparison) -> list[VersionResult]:
    """The comparison's candidate and baseline results (by label when the comparison does not hold them)."""
    by_label = {v.label: v for v in evaluation.versions}
    found = [c.candidate or by_label.get(c.candidate_label), c.baseline or by_label.get(c.baseline_label)]
    return [v for v in found if v is not None]


def comparison_section_markdown(evaluation: Evaluation, c: Comparison, heading: str = "#") -> str:
    from tabulate import tabulate

    def table(rows: list[list[str]], headers: list[str]) -> str:
        return tabulate(
            [[_md(cell) for cell in row] for row in rows], headers=headers, tablefmt="github", disable_numparse=True
        )

    lines = [f"{heading} A/B comparison: `{_md(c.candidate_label)}` vs `{_md(c.baseline_label)}`", "", intro(c), ""]
    worse = [_md(m.metric) for m in c.regressions]
    better = [_md(m.metric) for m in c.metrics if m.verdict == "better"]
    lines += [f"**Worse:** {', '.join(worse) or 'none'} · **better:** {', '.join(better) or 'none'}", ""]
    lines += [f"{heading}# Metrics", "", table(metric_rows(c), METRIC_HEADERS), ""]
    sides = compared_sides(evaluation, c)
    if c.latency:
        lines += [
            f"{heading}# Latency (paired, {c.latency[0].n} cases)",
            "",
            table(latency_rows(c), LATENCY_HEADERS),
            "",
        ]
    lines += (
        ["What each side's latency measured:", ""]
        + [f"- {_md(line)}" for line in measured_lines(sides, evaluation.config.in_process)]
        + [""]
    )
    if endpoints := endpoint_rows(sides):
        lines += [
            "Endpoint retries (rate limits and server errors; retry waits are part of the end-to-end latency):",
            "",
            table(endpoints, ENDPOINT_HEADERS),
            "",
        ]
    if c.warnings:
        lines += [f"{heading}# Warnings", ""] + [f"- {_md(w)}" for w in c.warnings] + [""]
    counts = {o: sum(1 for d in c.cases if d.outcome == o) for o in ("win", "loss", "tie")}
    lines += [
        f"{heading}# Cases that changed",
        "",
        f"{counts['win']} win(s), {counts['loss']} loss(es), {counts['tie']} tie(s) on the overall score.",
        "",
    ]
    changed = sorted(
        (d for d in c.cases if d.outcome != "tie"), key=lambda d: (d.outcome != "loss", d.overall_delta or 0.0)
    )
    if changed:
        rows = [
            [
                d.case_id,
                " ".join(d.tags),
                d.outcome,
                _num(d.overall_delta, "+.3f"),
                ", ".join(f"{k} {v:+.2f}" for k, v in d.deltas.items() if v is not None and abs(v) > 1e-9),
            ]
            for d in changed[:MAX_MD_CASE_ROWS]
        ]
        lines += [table(rows, ["case", "tags", "outcome", "overall Δ", "scorers that changed"]), ""]
        if len(changed) > MAX_MD_CASE_ROWS:
            lines += [f"... and {len(changed) - MAX_MD_CASE_ROWS} more in comparison.html.", ""]
    return "\n".join(lines)


def comparison_markdown(
    evaluation: Evaluation, masked: Mapping[str, int] | None = None, blockers: Sequence[str] | None = None
) -> str:
    """comparison.md: ready to paste into a pull request or a CI job summary, opening with the gate decision.

    `masked`: values masked per kind; `blockers`: the session's reasons not to promote (None: not known).
    """
    from harness.secrets import masked_line

    if not evaluation.comparisons:
        return ""
    heading = "#" if len(evaluation.comparisons) == 1 else "##"
    parts = [decision_markdown(evaluation, blockers, heading="#")]
    parts += [] if heading == "#" else [f"# A/B comparisons of `{_md(evaluation.candidate.reference)}`", ""]
    parts += [masked_line(masked), ""] if masked is not None else []
    parts += [f"> {_md(n)}" for n in evaluation.notes] + ([""] if evaluation.notes else [])
    parts += [comparison_section_markdown(evaluation, c, heading) for c in evaluation.comparisons]
    return "\n".join(parts)


# --- HTML -----------------------------------------------------------------------------------------
