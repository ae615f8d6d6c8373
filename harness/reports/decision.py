"""The gate decision that opens summary.md, comparison.md and comparison.html.

PASS or FAIL, every check named with its threshold or margin, the session's blockers, and a
promotion line: the outcome of promotion is known only after the reports are written (they are
logged with the run that promotion registers), so the reports hold a placeholder line that
`append_outcome` replaces once the session knows what was promoted or why not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.decision import baseline_name, failure_line
from harness.records.gate import RATIO_METRIC, RATIO_STATISTIC, detectable_text

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation
    from harness.records.gate import GateCheck
    from harness.settings import HarnessConfig

IN_PROCESS_LABEL = "evaluated in process: a fast local loop, never promoted"
PROMOTION_PENDING = (
    "decided after these reports were written (the session's last line says what was promoted or why not)"
)
PROMOTION_PREFIX = "Promotion: "
# The promotion line in each file: `append_outcome` finds it by these markers.
MD_PROMOTION = re.compile(r"^\*\*Promotion:\*\* .*$", re.M)
HTML_PROMOTION = re.compile(r'<p id="promotion">.*?</p>', re.S)
GATE_ON = {"mean": "mean", "ci_low": "95% CI lower end", "point": "point estimate", "ci_high": "95% CI upper end"}
HEADERS = ["result", "check", "value", "95% CI", "rule", "detail"]


def _g(value: float) -> str:
    """A threshold as configured; never `-0`."""
    return format(value + 0.0, "g")


OPS = {">=": "≥", "<=": "≤", "==": "="}  # plain characters a Markdown cell need not escape


@dataclass(frozen=True)
class GateRow:
    """One gate check as the reports show it, every field plain text."""

    result: str  # PASS | FAIL | SKIP
    check: str  # the metric and its bound: `correctness Δ vs baseline >= -0.02`
    value: str
    ci: str
    rule: str  # how the bound is applied: what is compared, the margin and its test
    detail: str

    def cells(self) -> list[str]:
        return [self.result, self.check, self.value, self.ci, self.rule, self.detail]


def _number(metric: str, value: float | None, relative: bool) -> str:
    if value is None or value != value:
        return "n/a"
    if metric == RATIO_METRIC:
        return f"{value:.2f}x"
    if relative:
        return f"{value:+.3f}"
    return f"{value:.1f}" if metric.endswith("_ms") else f"{value:.3f}"


def _latency_rule(cfg: HarnessConfig, c: GateCheck) -> str:
    if c.gate_on in ("point", "ci_high"):
        return f"the {GATE_ON[c.gate_on]}"
    if cfg.relative_test_for(c.metric) == "non_inferiority":
        return "non-inferiority: passes only when the whole 95% CI is within the bound"
    return (
        f"no regression: fails only when the whole 95% CI is beyond the bound; a CI across it is undecided "
        f"and {'blocks' if cfg.latency_undecided == 'block' else 'does not block'} (latency_undecided)"
    )


def _name_and_rule(cfg: HarnessConfig, c: GateCheck) -> tuple[str, str]:
    bound = f"{OPS.get(c.op, c.op)} {_g(c.threshold)}"
    if c.kind == "non_inferiority":
        margin = _g(-c.threshold)
        if cfg.relative_test_for(c.metric) == "non_inferiority":
            rule = f"margin {margin}, non-inferiority: the 95% CI lower end of Δ must be {bound}"
        else:
            rule = (
                f"margin {margin}, no significant regression: fails when significantly worse (one-sided, "
                f"Holm) and Δ below {_g(c.threshold)}"
            )
        return f"{c.metric} Δ vs baseline {bound}", rule
    if c.metric == RATIO_METRIC:
        return (
            f"latency candidate/baseline {bound}x",
            f"{RATIO_METRIC}: the geometric mean of the per-case ratios ({RATIO_STATISTIC}), against the "
            f"baseline: {_latency_rule(cfg, c)}",
        )
    if c.metric.startswith("latency_"):
        return f"{c.metric} {bound}", _latency_rule(cfg, c)
    if c.kind == "critical":
        return f"{c.label}: failing cases {bound}", "zero tolerance: one failing case blocks"
    if c.kind == "power":
        return (
            f"smallest detectable drop {bound}",
            "max_detectable_drop: what the golden set can detect (one-sided, 80% power)",
        )
    if c.kind == "baseline":
        return "baseline loaded", "a baseline that should be compared against must load"
    if c.kind == "policy":
        return "policy checks quality", "a configuration that checks nothing fails"
    if c.kind == "errors":
        return f"{c.metric} {bound}", "share of cases"
    return f"{c.metric} {bound}", f"the {GATE_ON.get(c.gate_on, 'mean')}"


def gate_rows(evaluation: Evaluation) -> list[GateRow]:
    """The gate's checks in table order, with their thresholds and margins spelled out."""
    rows = []
    for c in evaluation.gated.checks:
        name, rule = _name_and_rule(evaluation.config, c)
        relative = c.kind == "non_inferiority"
        if c.kind == "critical":
            value, ci = ("n/a" if c.value is None else f"{c.value:g} failing"), ""
        elif c.kind in ("baseline", "policy"):
            value, ci = ("n/a" if c.value is None else "yes" if c.value else "no"), ""
        elif c.kind == "power":
            value, ci = ("n/a" if c.value is None else detectable_text(c.value)), ""
        else:
            value = _number(c.metric, c.value, relative)
            ci = (
                ""
                if c.low is None
                else f"[{_number(c.metric, c.low, relative)}, {_number(c.metric, c.high, relative)}]"
            )
        result = "SKIP" if c.skipped else "PASS" if c.passed else "FAIL"
        rows.append(GateRow(result, name, value, ci, rule, c.detail))
    return rows


@dataclass(frozen=True)
class DecisionView:
    """The opening of every report: the verdict and what stands between it and promotion."""

    passed: bool
    verdict: str  # one sentence: how many checks held, which failed
    in_process: str | None  # IN_PROCESS_LABEL when the run was in process
    blockers: tuple[str, ...] | None  # None: not known when the reports were written (`harness compare`)
    rows: list[GateRow]
    power: tuple[str, ...] = ()  # what the golden set can detect, per gated metric

    @property
    def blockers_line(self) -> str | None:
        if self.blockers is None:
            return None
        if not self.blockers:
            return "Blockers: none: the session was complete."
        return "Blockers (promotion is refused whatever the gate says): " + "; ".join(self.blockers) + "."


def decision(evaluation: Evaluation, blockers: Sequence[str] | None = None) -> DecisionView:
    gate = evaluation.gated
    rows = gate_rows(evaluation)
    counted = sum(1 for c in gate.checks if not c.skipped)
    skipped = len(gate.checks) - counted
    undecided = [c.sentence(baseline_name(evaluation)) for c in gate.checks if c.undecided and c.passed]
    also = (f"; {skipped} skipped" if skipped else "") + (
        f"; undecided, not blocking: {'; '.join(undecided)}" if undecided else ""
    )
    if gate.passed:
        verdict = f"All {counted} check(s) held{also}."
    else:
        verdict = f"{len(gate.failures)} of {counted} check(s) failed: {failure_line(evaluation)}{also}."
    power = tuple(p.line() for p in gate.plan) + ((gate.detectable,) if gate.detectable else ())
    return DecisionView(
        gate.passed,
        verdict,
        IN_PROCESS_LABEL if evaluation.config.in_process else None,
        None if blockers is None else tuple(blockers),
        rows,
        power,
    )


def decision_markdown(evaluation: Evaluation, blockers: Sequence[str] | None = None, heading: str = "##") -> str:
    """The gate section of the Markdown reports (every cell escaped)."""
    from tabulate import tabulate

    from harness.secrets import md_cell

    d = decision(evaluation, blockers)
    lines = [f"{heading} Gate: {'PASS' if d.passed else 'FAIL'}", "", f"**{md_cell(d.verdict)}**", ""]
    if d.in_process:
        lines += [f"*{d.in_process.capitalize()}.*", ""]
    if d.blockers_line:
        lines += [md_cell(d.blockers_line), ""]
    lines += [f"**{PROMOTION_PREFIX.strip()}** {PROMOTION_PENDING}", ""]
    rows = [[md_cell(cell) for cell in row.cells()] for row in d.rows]
    lines += [tabulate(rows, headers=HEADERS, tablefmt="github", disable_numparse=True), ""]
    if d.power:
        lines += ["What this golden set can detect:", ""] + [f"- {md_cell(p)}" for p in d.power] + [""]
    return "\n".join(lines)


def append_outcome(report_dir: Path, line: str) -> None:
    """Put the promotion outcome (`promoted version 3 of agent to @production`, `not promoted: ...`)
    into summary.md, comparison.md and comparison.html, in place of their placeholder line (at the
    end of a file that has none). Masked and escaped like everything else in the reports."""
    import html

    from harness.secrets import mask, md_cell, sanitize_terminal

    shown = mask(line).text
    for name in ("summary.md", "comparison.md", "comparison.html"):
        path = report_dir / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if name.endswith(".html"):
            new = f'<p id="promotion"><b>{PROMOTION_PREFIX}</b>{html.escape(sanitize_terminal(shown))}</p>'
            marker, fallback = HTML_PROMOTION, text.replace("</body>", f"{new}\n</body>", 1)
        else:
            new = f"**{PROMOTION_PREFIX.strip()}** {md_cell(shown)}"
            marker, fallback = MD_PROMOTION, f"{text.rstrip()}\n\n{new}\n"

        # A function, not a replacement string: `new` may hold backslashes that re.subn would read as escapes.
        def replacement(_: re.Match[str], line: str = new) -> str:
            return line

        updated, found = marker.subn(replacement, text, count=1)
        path.write_text(updated if found else fallback, encoding="utf-8")
