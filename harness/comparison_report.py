"""The A/B comparison reports: comparison.md, a self-contained comparison.html, and PNG plots.

comparison.html needs nothing from the network: styles and a small script are inline, plots are
base64 PNGs, and a Content-Security-Policy allows only that one script (by its hash), so even
markup that slipped into the page could not run. Every text that comes from an answer, a golden
case, a scorer or a reference is HTML-escaped (and secrets masked) before it is written.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.secrets.sanitize import md_cell as _md
from harness.secrets.sanitize import sanitize_terminal

if TYPE_CHECKING:
    from harness.compare import Comparison
    from harness.evaluation import Evaluation

VERDICT_COLORS = {"better": "#1a7f37", "worse": "#cf222e", "no significant difference": "#6e7781"}
MAX_HTML_ANSWER_CHARS = 20_000
MAX_MD_CASE_ROWS = 40


def _num(value: float | None, fmt: str = ".3f") -> str:
    if value is None or value != value:
        return "n/a"
    if value in (float("inf"), float("-inf")):
        return "∞"
    return format(value, fmt)


def _p(p: float | None) -> str:
    if p is None or p != p:
        return "n/a"
    return f"{p:.2g}" if p < 0.001 else f"{p:.3f}"


def intro(c: Comparison) -> str:
    dropped = f" ({c.dropped} case(s) dropped: not in both)" if c.dropped else ""
    k = sum(1 for m in c.metrics if m.p_value == m.p_value)
    return (
        f"Candidate `{_md(c.candidate_reference)}` against baseline `{_md(c.baseline_reference)}` on {c.n_shared} shared case(s){dropped}. "
        f"Δ is candidate − baseline with a paired bootstrap 95% CI; p from exact McNemar (pass/fail metrics) or Wilcoxon "
        f"signed-rank (scores), Holm-corrected across {k} metric(s) at α = {c.alpha:g}."
    )


def metric_rows(c: Comparison) -> list[list[str]]:
    rows = []
    for m in c.metrics:
        rows.append([
            m.metric, _num(m.baseline), _num(m.candidate), _num(m.delta, "+.3f"),
            f"[{_num(m.ci_low, '+.3f')}, {_num(m.ci_high, '+.3f')}]", _p(m.p_value), _p(m.p_adjusted),
            m.test, f"{m.wins} / {m.losses} / {m.ties}", _num(m.mdd), m.verdict,
        ])
    return rows


METRIC_HEADERS = ["metric", "baseline", "candidate", "Δ", "95% CI of Δ", "p", "p (Holm)", "test", "wins / losses / ties", "detectable Δ", "verdict"]
LATENCY_HEADERS = ["percentile", "baseline ms", "candidate ms", "candidate / baseline", "95% CI", "verdict"]


def _ms(value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def latency_rows(c: Comparison) -> list[list[str]]:
    return [
        [r.percentile, _ms(r.baseline_ms), _ms(r.candidate_ms), r.short(),
         f"[{_num(r.ci_low, '.2f')}, {_num(r.ci_high, '.2f')}]", r.verdict]
        for r in c.latency
    ]


def comparison_section_markdown(c: Comparison, heading: str = "#") -> str:
    from tabulate import tabulate

    lines = [f"{heading} A/B comparison: `{_md(c.candidate_label)}` vs `{_md(c.baseline_label)}`", "", intro(c), ""]
    worse = [m.metric for m in c.regressions]
    better = [m.metric for m in c.metrics if m.verdict == "better"]
    lines += [f"**Worse:** {', '.join(worse) or 'none'} · **better:** {', '.join(better) or 'none'}", ""]
    lines += [f"{heading}# Metrics", "", tabulate(metric_rows(c), headers=METRIC_HEADERS, tablefmt="github", disable_numparse=True), ""]
    if c.latency:
        lines += [f"{heading}# Latency (paired, {c.latency[0].n} cases)", "",
                  tabulate(latency_rows(c), headers=LATENCY_HEADERS, tablefmt="github", disable_numparse=True), ""]
    if c.warnings:
        lines += [f"{heading}# Warnings", ""] + [f"- {_md(w)}" for w in c.warnings] + [""]
    counts = {o: sum(1 for d in c.cases if d.outcome == o) for o in ("win", "loss", "tie")}
    lines += [f"{heading}# Cases that changed", "",
              f"{counts['win']} win(s), {counts['loss']} loss(es), {counts['tie']} tie(s) on the overall score.", ""]
    changed = sorted((d for d in c.cases if d.outcome != "tie"), key=lambda d: (d.outcome != "loss", d.overall_delta or 0.0))
    if changed:
        rows = [
            [_md(d.case_id), _md(" ".join(d.tags)), d.outcome, _num(d.overall_delta, "+.3f"),
             _md(", ".join(f"{k} {v:+.2f}" for k, v in d.deltas.items() if v is not None and abs(v) > 1e-9))]
            for d in changed[:MAX_MD_CASE_ROWS]
        ]
        lines += [tabulate(rows, headers=["case", "tags", "outcome", "overall Δ", "scorers that changed"], tablefmt="github", disable_numparse=True), ""]
        if len(changed) > MAX_MD_CASE_ROWS:
            lines += [f"... and {len(changed) - MAX_MD_CASE_ROWS} more in comparison.html.", ""]
    return "\n".join(lines)


def comparison_markdown(evaluation: Evaluation, masked: Mapping[str, int] | None = None) -> str:
    """comparison.md: ready to paste into a pull request or a CI job summary; `masked`: values masked per kind."""
    from harness.secrets import masked_line

    if not evaluation.comparisons:
        return ""
    heading = "#" if len(evaluation.comparisons) == 1 else "##"
    parts = [] if heading == "#" else [f"# A/B comparisons of `{_md(evaluation.candidate.reference)}`", ""]
    parts += [masked_line(masked), ""] if masked is not None else []
    parts += [f"> {_md(n)}" for n in evaluation.notes] + ([""] if evaluation.notes else [])
    parts += [comparison_section_markdown(c, heading) for c in evaluation.comparisons]
    return "\n".join(parts)


# --- plots ----------------------------------------------------------------------------------------


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
    for offset, (label, version, mean_of) in enumerate([
        ("baseline", c.baseline, lambda m: m.baseline),
        ("candidate", c.candidate, lambda m: m.candidate),
    ]):
        means = [mean_of(m) for m in metrics]
        errors = [[0.0] * len(metrics), [0.0] * len(metrics)]
        for i, m in enumerate(metrics):
            estimate = version.metric_estimate(m.metric) if version is not None else None
            if estimate is not None and estimate.low == estimate.low:
                errors[0][i] = max(0.0, means[i] - estimate.low)
                errors[1][i] = max(0.0, estimate.high - means[i])
        left.barh(y + (0.2 if offset == 0 else -0.2), means, height=0.38, xerr=errors, capsize=3,
                  color="#8c959f" if offset == 0 else "#0969da", label=f"{label}")
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
        left.step(values, np.arange(1, values.size + 1) / values.size, where="post", label=f"{version.label} (n={values.size})")
    if positive:
        left.set_xscale("log")
    left.set_xlabel("latency per case, ms")
    left.set_ylabel("fraction of cases")
    left.set_title("Latency distributions")
    if left.lines:
        left.legend(loc="lower right", fontsize=8)
    rows = [(f"{r.percentile} vs {c.baseline_label}", r) for c in evaluation.comparisons for r in c.latency if r.ratio == r.ratio]
    if rows:
        y = np.arange(len(rows))
        ratios = [r.ratio for _, r in rows]
        lows = [max(0.0, r.ratio - r.ci_low) if r.ci_low == r.ci_low else 0.0 for _, r in rows]
        highs = [max(0.0, r.ci_high - r.ratio) if r.ci_high == r.ci_high else 0.0 for _, r in rows]
        right.barh(y, ratios, xerr=[lows, highs], capsize=3, height=0.5, color=[VERDICT_COLORS.get(r.verdict, "#6e7781") for _, r in rows])
        right.axvline(1, color="black", linewidth=0.8)
        right.set_yticks(y, [label for label, _ in rows])
        right.invert_yaxis()
    right.set_xlabel("candidate / baseline (95% CI)")
    right.set_title("Latency ratio")
    return _png(fig)


def write_plots(evaluation: Evaluation, report_dir: Path) -> dict[str, bytes]:
    """Write the PNG plots; returns file name -> bytes (embedded in comparison.html)."""
    plots: dict[str, bytes] = {}
    for i, comparison in enumerate(evaluation.comparisons):
        name = "comparison_metrics.png" if i == 0 else f"comparison_metrics_{i + 1}.png"
        plots[name] = metrics_plot(comparison)
    plots["comparison_latency.png"] = latency_plot(evaluation)
    for name, data in plots.items():
        (report_dir / name).write_bytes(data)
    return plots


# --- HTML -----------------------------------------------------------------------------------------

STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1f2328;max-width:1400px}
h1{font-size:24px}h2{font-size:19px;margin-top:28px;border-bottom:1px solid #d0d7de}h3{font-size:16px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.v-better{color:#1a7f37;font-weight:600}.v-worse{color:#cf222e;font-weight:600}.v-none{color:#6e7781}
.o-win{background:#dafbe1}.o-loss{background:#ffebe9}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;margin:4px 0}
.note{color:#57606a}
.filters{margin:8px 0;display:flex;gap:16px;align-items:center}
.sbs{display:grid;grid-template-columns:1fr 1fr;gap:12px}.side{border:1px solid #d0d7de;padding:8px;min-width:0}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:8px;margin:4px 0;font-size:12px}
img{max-width:100%;border:1px solid #d0d7de;margin:6px 0}
code{background:#f6f8fa;padding:1px 4px}
"""

SCRIPT = """
(function () {
  var params = new URLSearchParams(window.location.hash.slice(1));
  function apply(section) {
    var tag = section.querySelector('.tag-filter').value;
    var outcome = section.querySelector('.outcome-filter').value;
    var rows = section.querySelectorAll('tbody.case');
    var shown = 0;
    rows.forEach(function (row) {
      var tags = (row.getAttribute('data-tags') || '').split(' ');
      var o = row.getAttribute('data-outcome');
      var ok = (!tag || tags.indexOf(tag) >= 0) && (!outcome || o === outcome || (outcome === 'changed' && o !== 'tie'));
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    section.querySelector('.shown-count').textContent = shown + ' of ' + rows.length + ' cases shown';
  }
  document.querySelectorAll('section.cases').forEach(function (section) {
    var tag = section.querySelector('.tag-filter');
    var outcome = section.querySelector('.outcome-filter');
    if (params.has('tag')) { tag.value = params.get('tag'); }
    if (params.has('outcome')) { outcome.value = params.get('outcome'); }
    tag.addEventListener('change', function () { apply(section); });
    outcome.addEventListener('change', function () { apply(section); });
    apply(section);
  });
  document.body.setAttribute('data-ready', '1');
})();
"""


def _e(value: object) -> str:
    return html.escape(sanitize_terminal(value), quote=True)


def _verdict_class(verdict: str) -> str:
    return {"better": "v-better", "worse": "v-worse"}.get(verdict, "v-none")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str, verdict_col: int | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            klass = _verdict_class(cell) if i == verdict_col else ("num" if i and any(ch.isdigit() for ch in cell[:2]) else "")
            cells.append(f'<td class="{klass}">{_e(cell)}</td>' if klass else f"<td>{_e(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{_e(cls)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _answer_block(title: str, reference: str, result, redact: Callable[[str], str]) -> str:
    if result is None:
        return f'<div class="side"><h4>{_e(title)}</h4><p class="note">no result</p></div>'
    text = result.output.text
    cut = ""
    if len(text) > MAX_HTML_ANSWER_CHARS:
        cut = f'<p class="note">answer cut at {MAX_HTML_ANSWER_CHARS} of {len(text)} characters</p>'
        text = text[:MAX_HTML_ANSWER_CHARS]
    error = f'<p class="v-worse">agent error: {_e(redact(result.output.error))}</p>' if result.output.error else ""
    rows = "".join(
        f'<tr><td>{_e(name)}</td><td class="num">{_e(_num(s.value, ".2f") if s.applicable else "n/a")}</td>'
        f'<td class="{"v-better" if s.passed else "v-worse"}">{"pass" if s.passed else "fail"}</td>'
        f"<td>{_e(s.judge)}</td><td>{_e(redact(s.rationale))}</td></tr>"
        for name, s in result.scores.items()
    )
    return (
        f'<div class="side"><h4>{_e(title)} <code>{_e(reference)}</code> · {_e(_ms(result.output.latency_ms))} ms</h4>'
        f"{error}<pre>{_e(redact(text))}</pre>{cut}"
        f'<table class="rationale"><thead><tr><th>scorer</th><th>value</th><th>result</th><th>judge</th><th>rationale</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _cases_section(c: Comparison, index: int, redact_for: Callable[[str], Callable[[str], str]]) -> str:
    scorer_names = [m.metric for m in c.metrics if m.metric != "overall"]
    tags = sorted({t for d in c.cases for t in d.tags})
    tag_options = "".join(f'<option value="{_e(t)}">{_e(t)}</option>' for t in tags)
    headers = ["case", "tags", "outcome", "overall Δ", *[f"{s} Δ" for s in scorer_names], "latency ms (base → cand)"]
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    bodies = []
    for d in c.cases:
        redact = redact_for(d.case_id)
        cand = c.candidate.results.get(d.case_id) if c.candidate is not None else None
        base = c.baseline.results.get(d.case_id) if c.baseline is not None else None
        question = cand.case.question if cand is not None else (base.case.question if base is not None else "")
        deltas = "".join(f'<td class="num">{_e(_num(d.deltas.get(s), "+.2f"))}</td>' for s in scorer_names)
        summary = (
            f'<tr class="summary o-{_e(d.outcome)}"><td>{_e(d.case_id)}</td><td>{_e(" ".join(d.tags))}</td>'
            f"<td>{_e(d.outcome)}</td><td class=\"num\">{_e(_num(d.overall_delta, '+.3f'))}</td>{deltas}"
            f'<td class="num">{_e(_ms(d.baseline_latency_ms))} → {_e(_ms(d.candidate_latency_ms))}</td></tr>'
        )
        detail = (
            f'<tr class="detail"><td colspan="{len(headers)}"><details><summary>question, both answers and each scorer\'s rationale</summary>'
            f"<p><b>Question:</b></p><pre>{_e(redact(question))}</pre>"
            f'<div class="sbs">{_answer_block("baseline", c.baseline_reference, base, redact)}'
            f'{_answer_block("candidate", c.candidate_reference, cand, redact)}</div></details></td></tr>'
        )
        tag_attr = " ".join(d.tags)
        bodies.append(f'<tbody class="case" data-outcome="{_e(d.outcome)}" data-tags="{_e(tag_attr)}">{summary}{detail}</tbody>')
    return (
        f'<section class="cases" id="cases-{index}"><h3>Per-case diff</h3>'
        f'<div class="filters"><label>Tag <select class="tag-filter"><option value="">all tags</option>{tag_options}</select></label>'
        '<label>Outcome <select class="outcome-filter"><option value="">all</option><option value="changed">wins and losses</option>'
        '<option value="win">wins</option><option value="loss">losses</option><option value="tie">ties</option></select></label>'
        '<span class="shown-count"></span></div>'
        f'<table class="case-table"><thead><tr>{head}</tr></thead>{"".join(bodies)}</table></section>'
    )


def comparison_html(evaluation: Evaluation, plots: dict[str, bytes], redact_for: Callable[[str], Callable[[str], str]] | None = None,
                    masked: Mapping[str, int] | None = None) -> str:
    """comparison.html: the tables of comparison.md, the plots, and the filterable per-case diff."""
    from harness.secrets import masked_line

    redact_for = redact_for or (lambda case_id: (lambda text: text))
    plain = redact_for("")
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; "
           "base-uri 'none'; form-action 'none'")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',  # our constant: quotes must stay quotes
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>A/B comparison: {_e(plain(evaluation.candidate.reference))}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>A/B comparison of <code>{_e(plain(evaluation.candidate.reference))}</code></h1>",
    ]
    parts += [f'<p class="note">{_e(masked_line(masked))}</p>'] if masked is not None else []
    parts += [f'<p class="note">{_e(plain(n))}</p>' for n in evaluation.notes]
    for index, c in enumerate(evaluation.comparisons):
        worse = ", ".join(m.metric for m in c.regressions) or "none"
        better = ", ".join(m.metric for m in c.metrics if m.verdict == "better") or "none"
        parts += [
            f'<section class="comparison" id="comparison-{index}">',
            f"<h2>Candidate <code>{_e(plain(c.candidate_reference))}</code> vs baseline <code>{_e(plain(c.baseline_reference))}</code></h2>",
            f"<p>{_e(plain(intro(c).replace('`', '')))}</p>",
            f'<p><span class="v-worse">Worse: {_e(worse)}</span> · <span class="v-better">better: {_e(better)}</span></p>',
            *[f'<div class="warn">{_e(plain(w))}</div>' for w in c.warnings],
            "<h3>Metrics</h3>",
            _table(METRIC_HEADERS, metric_rows(c), "metrics", verdict_col=len(METRIC_HEADERS) - 1),
        ]
        if c.latency:
            parts += [f"<h3>Latency (paired, {c.latency[0].n} cases)</h3>",
                      _table(LATENCY_HEADERS, latency_rows(c), "latency", verdict_col=len(LATENCY_HEADERS) - 1)]
        name = "comparison_metrics.png" if index == 0 else f"comparison_metrics_{index + 1}.png"
        if name in plots:
            parts.append(_img(plots[name], f"per-metric means and paired differences with 95% CIs vs {plain(c.baseline_reference)}"))
        parts.append(_cases_section(c, index, redact_for))
        parts.append("</section>")
    if "comparison_latency.png" in plots:
        parts += ["<h2>Latency</h2>", _img(plots["comparison_latency.png"], "latency distributions and candidate/baseline ratios")]
    parts += [f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts)


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def write_comparison_files(evaluation: Evaluation, report_dir: Path, masked: Mapping[str, int] | None = None) -> list[Path]:
    """comparison.md, comparison.html and the PNG plots, when the evaluation compared versions.

    `masked`: values masked per kind in the evaluation's results, said in one line in both files.
    """
    if not evaluation.comparisons:
        return []
    from harness.secrets import emails_in, mask

    by_case = {case.id: emails_in(m["content"] for m in case.messages) for case in evaluation.cases}
    asked = frozenset().union(*by_case.values()) if by_case else frozenset()

    def redact_for(case_id: str) -> Callable[[str], str]:
        allowed = by_case.get(case_id, frozenset())
        return lambda text: mask(str(text or ""), allowed).text

    plots = write_plots(evaluation, report_dir)
    (report_dir / "comparison.md").write_text(mask(comparison_markdown(evaluation, masked), asked).text, encoding="utf-8")
    (report_dir / "comparison.html").write_text(comparison_html(evaluation, plots, redact_for, masked), encoding="utf-8")
    return [report_dir / "comparison.md", report_dir / "comparison.html", *(report_dir / n for n in plots)]
