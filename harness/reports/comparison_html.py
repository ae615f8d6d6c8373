"""comparison.html: a self-contained page rendered from a Jinja2 template (plots: `harness.reports.plots`).

It needs nothing from the network: styles and a small script are inline, plots are base64 PNGs, and a
Content-Security-Policy allows only that one script (by its hash), so even markup that slipped into the page could
not run. Every text that comes from an answer, a golden case, a scorer or a reference is escaped (and secrets masked)
on its way out.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from harness.reports.calls import ENDPOINT_HEADERS, endpoint_rows, measured_lines
from harness.reports.decision import HEADERS as GATE_HEADERS
from harness.reports.decision import PROMOTION_PENDING, PROMOTION_PREFIX, decision
from harness.reports.format import ms as _ms
from harness.reports.format import num as _num

if TYPE_CHECKING:
    from harness.records.comparison import Comparison
    from harness.records.evaluation import Evaluation
    from harness.records.results import CaseResult
from harness.reports.comparison import (
    LATENCY_HEADERS,
    METRIC_HEADERS,
    Redact,
    compared_sides,
    intro,
    latency_rows,
    metric_rows,
)

MAX_HTML_ANSWER_CHARS = 20_000
TEMPLATES = "templates/reports"  # package data of `harness`
NUMERIC = re.compile(r"[\[+\-]?\d")


@lru_cache(maxsize=1)
def _environment() -> Any:
    """Jinja2 with autoescape; `finalize` also makes control characters visible (`\\x1b`) in every value."""
    import html

    from jinja2 import Environment, PackageLoader, StrictUndefined
    from markupsafe import Markup

    from harness.secrets.sanitize import sanitize_terminal

    def finalize(value: object) -> object:
        # html.escape with quote=True: the page's escaping is the same as before the template, `'` as `&#x27;`.
        return value if isinstance(value, Markup) else Markup(html.escape(sanitize_terminal(value), quote=True))

    return Environment(
        loader=PackageLoader("harness", TEMPLATES),
        autoescape=True,
        finalize=finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _asset(name: str) -> str:
    from importlib import resources

    return (resources.files("harness") / TEMPLATES / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class TableView:
    cls: str
    headers: Sequence[str]
    rows: list[list[tuple[str, str]]]  # (text, css class) per cell


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    cls: str,
    status_col: int | None = None,
    status: Callable[[str], str] = lambda v: {"better": "v-better", "worse": "v-worse"}.get(v, "v-none"),
) -> TableView:
    """Cells classed `num` when they start with a number (or a sign, or a CI's bracket), the status column by
    its value."""
    return TableView(
        cls,
        headers,
        [
            [
                (cell, status(cell) if i == status_col else ("num" if i and NUMERIC.match(cell) else ""))
                for i, cell in enumerate(row)
            ]
            for row in rows
        ],
    )


def _trajectory_view(result: CaseResult, redact: Redact) -> list[str] | None:
    """The steps the answer took, one label each ([] when its case expects a route but none was traced);
    None when its case expects none and none was read."""
    from harness.trajectory import step_label

    steps = result.output.trajectory
    if steps is None:
        return [] if result.case.traced else None
    return [redact(step_label(step)) for step in steps]


def _answer_view(title: str, reference: str, result: CaseResult | None, redact: Redact) -> dict[str, Any]:
    if result is None:
        return {"title": title, "missing": True}
    text = result.output.text
    cut = ""
    if len(text) > MAX_HTML_ANSWER_CHARS:
        cut = f"answer cut at {MAX_HTML_ANSWER_CHARS} of {len(text)} characters"
        text = text[:MAX_HTML_ANSWER_CHARS]
    return {
        "title": title,
        "missing": False,
        "reference": reference,
        "latency": _ms(result.output.latency_ms),
        "error": redact(result.output.error) if result.output.error else "",
        "text": redact(text),
        "cut": cut,
        "trajectory": _trajectory_view(result, redact),
        "scores": [
            {
                "name": name,
                "value": _num(s.value, ".2f") if s.applicable else "n/a",
                "passed": s.passed,
                "judge": s.judge,
                "rationale": redact(s.rationale),
            }
            for name, s in result.scores.items()
        ],
    }


def _comparison_view(
    evaluation: Evaluation, c: Comparison, index: int, plots: Mapping[str, bytes], redact_for: Callable[[str], Redact]
) -> dict[str, Any]:
    from harness.reports.plots import metrics_plot_name

    plain = redact_for("")
    scorer_names = [m.metric for m in c.metrics if m.metric != "overall"]
    cases = []
    for d in c.cases:
        redact = redact_for(d.case_id)
        cand = c.candidate.results.get(d.case_id) if c.candidate is not None else None
        base = c.baseline.results.get(d.case_id) if c.baseline is not None else None
        question = cand.case.question if cand is not None else (base.case.question if base is not None else "")
        cases.append(
            {
                "case_id": redact(d.case_id),
                "tags": " ".join(d.tags),
                "outcome": d.outcome,
                "overall": _num(d.overall_delta, "+.3f"),
                "deltas": [_num(d.deltas.get(s), "+.2f") for s in scorer_names],
                "latency": f"{_ms(d.baseline_latency_ms)} → {_ms(d.candidate_latency_ms)}",
                "question": redact(question),
                "baseline": _answer_view("baseline", c.baseline_reference, base, redact),
                "candidate": _answer_view("candidate", c.candidate_reference, cand, redact),
            }
        )
    sides = compared_sides(evaluation, c)
    endpoints = endpoint_rows(sides)
    plot = plots.get(metrics_plot_name(index))
    return {
        "candidate_reference": plain(c.candidate_reference),
        "baseline_reference": plain(c.baseline_reference),
        "intro": plain(intro(c, str)),
        "worse": ", ".join(m.metric for m in c.regressions) or "none",
        "better": ", ".join(m.metric for m in c.metrics if m.verdict == "better") or "none",
        "warnings": [plain(w) for w in c.warnings],
        "metrics": _table(METRIC_HEADERS, metric_rows(c), "metrics", len(METRIC_HEADERS) - 1),
        "latency": _table(LATENCY_HEADERS, latency_rows(c), "latency", len(LATENCY_HEADERS) - 1) if c.latency else None,
        "latency_title": f"Latency (paired, {c.latency[0].n} cases)" if c.latency else "",
        "measured": [plain(line) for line in measured_lines(sides, evaluation.config.in_process)],
        "endpoints": _table(ENDPOINT_HEADERS, [[plain(cell) for cell in row] for row in endpoints], "endpoints")
        if endpoints
        else None,
        "plot": base64.b64encode(plot).decode("ascii") if plot else "",
        "plot_alt": f"per-metric means and paired differences with 95% CIs vs {plain(c.baseline_reference)}",
        "tags": sorted({t for d in c.cases for t in d.tags}),
        "case_headers": [
            "case",
            "tags",
            "outcome",
            "overall Δ",
            *[f"{s} Δ" for s in scorer_names],
            "latency ms (base → cand)",
        ],
        "cases": cases,
    }


def comparison_html(
    evaluation: Evaluation,
    plots: dict[str, bytes],
    redact_for: Callable[[str], Redact] | None = None,
    masked: Mapping[str, int] | None = None,
    blockers: Sequence[str] | None = None,
) -> str:
    """comparison.html: the gate decision, the tables of comparison.md, the plots, and the filterable per-case diff."""
    from markupsafe import Markup

    from harness.secrets import masked_line

    redact_for = redact_for or (lambda case_id: lambda text: text)
    plain = redact_for("")
    script = _asset("comparison.js")
    script_hash = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (
        f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; "
        "base-uri 'none'; form-action 'none'"
    )
    d = decision(evaluation, blockers)
    gate_rows = [[plain(cell) for cell in row.cells()] for row in d.rows]
    latency_plot = plots.get("comparison_latency.png")
    return (
        _environment()
        .get_template("comparison.html.j2")
        .render(
            csp=Markup(csp),  # our constant: its quotes must stay quotes
            style=Markup(_asset("comparison.css")),
            script=Markup(script),
            reference=plain(evaluation.candidate.reference),
            gate={
                "passed": d.passed,
                "verdict": plain(d.verdict),
                "in_process": d.in_process,
                "blockers": plain(d.blockers_line or ""),
                "power": [plain(p) for p in d.power],
                "table": _table(
                    GATE_HEADERS, gate_rows, "gate-checks", GATE_HEADERS.index("result"), lambda v: f"r-{v}"
                ),
            },
            promotion_prefix=PROMOTION_PREFIX,
            promotion_pending=PROMOTION_PENDING,
            masked_line=masked_line(masked) if masked is not None else "",
            notes=[plain(n) for n in evaluation.notes],
            comparisons=[
                _comparison_view(evaluation, c, i, plots, redact_for) for i, c in enumerate(evaluation.comparisons)
            ],
            latency_plot=base64.b64encode(latency_plot).decode("ascii") if latency_plot else "",
        )
    )
