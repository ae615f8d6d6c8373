"""Gate decisions on small, noisy golden sets: a new user's trial, reproduced.

Seven golden cases, the same code evaluated against its own @production: latency noise must not
block it; the power note, the p-values, the Holm family and the decision line must read the same
everywhere; tracing time is not the agent's latency; a policy of zeros or a one-case set cannot
promote by checking nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from importlib import resources
from string import Template

import numpy as np

from harness.config import load_config
from harness.decision import refusals
from harness.pipeline import version_result
from harness.plan import plan_lines, policy_problems
from harness.records.comparison import GATE_P_NAME, P_HOLM_NAME, P_NAME, fmt_p
from harness.records.results import CaseResult
from harness.reports.decision import decision
from harness.reports.files import write_reports
from harness.reports.terminal import headline
from harness.versions.version import AgentOutput
from tests.compare.helpers import case, config, evaluation, version


def rows(correctness, latencies, safety=None, ids=None):
    safety = safety or [1] * len(correctness)
    ids = ids or [f"c{i:02d}" for i in range(len(correctness))]
    return {
        cid: {"scores": {"correctness": c, "safety": s}, "latency": ms}
        for cid, c, s, ms in zip(ids, correctness, safety, latencies)
    }


def noisy(n, seed, factor=1.0, sd=0.6):
    """Per-case latencies: case difficulty times call noise (log-normal), the slow version `factor` x."""
    rng = np.random.default_rng(seed)
    difficulty = np.random.default_rng(0).lognormal(np.log(20), 0.5, n)
    return list(difficulty * factor * rng.lognormal(0, sd, n))


def init_config(tmp_path):
    """The configuration `harness init` writes, loaded as a project would."""
    text = (resources.files("harness") / "templates" / "pyproject_harness.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(Template(text).safe_substitute(model_name="my_agent"), encoding="utf-8")
    cfg = load_config(tmp_path, environ={})
    kept = {k: v for k, v in cfg.thresholds.items() if k in ("correctness", "safety") or k.startswith("latency")}
    return replace(cfg, scorers=["correctness", "safety"], thresholds=kept)


def test_an_unchanged_seven_case_version_is_not_blocked_by_latency_noise(tmp_path):
    cfg = init_config(tmp_path)
    assert cfg.latency_undecided == "pass" and cfg.gate_on_for("latency_ratio_max") == "ci"
    blocked = 0
    for seed in range(20):
        base = version("baseline", rows([1] * 7, noisy(7, 2 * seed)), "models:/my_agent@production")
        cand = version("candidate", rows([1] * 7, noisy(7, 2 * seed + 1)), "my_agent:answer")
        ev = evaluation(cfg, cand, base)
        check = ev.gate.check("latency_ratio_max<=1.5")
        blocked += not check.passed
        if check.undecided:  # said in one line, with the cases that would tell
            assert re.search(
                r"undecided: 7 case\(s\) cannot tell whether .* is within 1\.50x .*; about \d+ cases would tell; "
                r'does not block \(latency_undecided = "pass"\)',
                check.detail,
            ), check.detail
            assert "undecided, not blocking: latency vs @production (per-case ratio) " in decision(ev).verdict
            assert "cases would tell (allowed ≤ 1.5x)" in decision(ev).verdict
    assert blocked == 0
    # Firm when the data can tell: 2x slower on 40 cases is shown beyond 1.5x and blocks.
    base = version("baseline", rows([1] * 40, noisy(40, 1, sd=0.2)), "models:/my_agent@production")
    slow = version("candidate", rows([1] * 40, noisy(40, 2, factor=2.0, sd=0.2)))
    check = evaluation(cfg, slow, base).gate.check("latency_ratio_max<=1.5")
    assert not check.passed and not check.undecided and check.checked == check.low > 1.5
    assert check.sentence("@production").startswith(
        "latency vs @production (per-case ratio) "
    ) and "(95% CI lower end; allowed ≤ 1.5x)" in check.sentence("@production")


def test_non_inferiority_for_latency_needs_the_whole_ci_within_the_bound(tmp_path):
    cfg = config(
        tmp_path,
        thresholds={"correctness": 0.5, "latency_ratio_max": 1.5},
        relative_test={"latency_ratio_max": "non_inferiority"},
    )
    base = version("baseline", rows([1] * 7, noisy(7, 3)))
    check = evaluation(cfg, version("candidate", rows([1] * 7, noisy(7, 4))), base).gate.check("latency_ratio_max<=1.5")
    assert check.undecided and not check.passed and "non_inferiority needs the whole CI within it" in check.detail


def test_the_power_note_has_no_complex_number_and_no_drop_above_the_range(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, non_inferiority={"correctness": 0.02})
    lines = plan_lines(cfg, [case(f"c{i}") for i in range(2)])
    text = "\n".join(lines)
    assert "j" not in re.sub(r"[a-zA-Z_]{2,}", "", text)  # no `0.000+1.936j`
    assert "smallest detectable drop none (no drop in 0..1 is detectable)" in text and "2.500" not in text
    ev = evaluation(cfg, version("candidate", rows([1, 1, 0], [10] * 3)), version("baseline", rows([1] * 3, [10] * 3)))
    report = write_reports(ev, tmp_path / "reports")
    md = (report / "comparison.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| correctness"))
    assert "none (no drop in 0..1 is detectable)" in row and "2.500" not in md and "5.000" not in md
    document = json.loads((report / "results.json").read_text())
    assert document["gate"]["plan"][0]["detectable"] is None  # infinite: written as null, never above 1


def regression(tmp_path, n=82, wrong=6):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, non_inferiority={"correctness": 0.02})
    cfg = replace(cfg, scorers=["correctness", "safety"])
    base = version("baseline", rows([1] * n, [10.0 + i % 5 for i in range(n)]), "models:/m@production")
    cand = version(
        "candidate", rows([0] * wrong + [1] * (n - wrong), [10.0 + i % 5 for i in range(n)]), "agent.v2:CAND"
    )
    return evaluation(cfg, cand, base)


def test_one_comparison_one_p_value_with_one_name_in_every_writer(tmp_path):
    """The terminal, summary.md, comparison.md, comparison.html and results.json of one session."""
    ev = regression(tmp_path)
    report = write_reports(ev, tmp_path / "reports")
    terminal = "\n".join(headline(ev))
    summary, md, page = ((report / name).read_text() for name in ("summary.md", "comparison.md", "comparison.html"))
    document = json.loads((report / "results.json").read_text())["comparisons"][0]
    c = ev.comparisons[0]
    assert document["p_values"]["p_worse_adjusted"] == GATE_P_NAME and document["family"] == c.family == ["correctness"]
    for m in c.metrics:
        p, holm, worse = m.p_cells()
        stored = next(d for d in document["metrics"] if d["metric"] == m.metric)
        assert (
            fmt_p(stored["p_value"]),
            fmt_p(stored["p_adjusted"]) if m.gated else holm,
            fmt_p(stored["p_worse_adjusted"]) if m.gated else worse,
        ) == (p, holm, worse)
        delta, ci = f"{m.delta:+.3f}", f"[{m.ci_low:+.3f}, {m.ci_high:+.3f}]"
        table_cells = f"| {delta} | {ci} | {p} | {holm} | {worse} |"
        assert table_cells in re.sub(r" +\|", " |", md), (m.metric, table_cells)
        assert all(s in page for s in (delta, p)), m.metric
        if m.gated or m.verdict != "no significant difference":
            assert f"{P_NAME} {p}" in terminal and f"{P_NAME} {p}" in summary
        else:
            assert f"{m.metric} Δ {delta} {ci}" in terminal and f"{m.metric} Δ {delta} {ci}" in summary
    gated = c.metric("correctness")
    worse = fmt_p(gated.p_worse_adjusted)
    check = ev.gate.check("correctness_vs_baseline>=-0.02")
    assert f"{GATE_P_NAME}={worse}" in check.detail  # the gate's own detail: the same value, the same name
    for text in (terminal, summary):
        assert f"{P_HOLM_NAME} {fmt_p(gated.p_adjusted)}, {GATE_P_NAME} {worse}" in text
    assert all(name in md and name in page for name in (P_NAME, P_HOLM_NAME, GATE_P_NAME))


def test_the_holm_family_is_the_gated_metrics_and_every_writer_says_so(tmp_path):
    ev = regression(tmp_path)
    report = write_reports(ev, tmp_path / "reports")
    family = "Holm over the 1 gated metric(s) (correctness); other metrics uncorrected"
    for text in (
        "\n".join(headline(ev)),
        (report / "summary.md").read_text(),
        (report / "comparison.md").read_text(),
        (report / "comparison.html").read_text(),
    ):
        assert family in text
        assert "Holm-corrected across" not in text
    md = (report / "comparison.md").read_text()
    safety_row = next(line for line in md.splitlines() if line.startswith("| safety"))
    assert safety_row.count("not gated") == 3  # Holm p, gate p, detectable drop: not n/a without a reason


def test_the_decision_line_names_each_failing_check_in_words(tmp_path):
    cfg = config(
        tmp_path, thresholds={"correctness": 0.5, "latency_p95_ms": 5000}, non_inferiority={"correctness": 0.02}
    )
    ids = [f"order-{i:03d}" for i in range(1, 31)]
    safety = [1] * 30
    safety[6] = 0
    base = version("baseline", rows([1] * 30, [10.0] * 30, ids=ids), "models:/m@production")
    cand = version("candidate", rows([1] + [0] * 29, [10.0] * 30, safety, ids=ids))
    ev = evaluation(cfg, cand, base)
    line = decision(ev).verdict
    assert (
        "1 answer leaked a secret or forbidden text, or missed a refusal (safety, zero tolerance: case order-007)"
        in line
    )
    assert "correctness Δ vs @production −0.97 (allowed ≥ −0.02)" in line
    assert "correctness mean 0.033 (threshold ≥ 0.5)" in line
    assert "None" not in line and "needs" not in line
    # Every answer an error: latency was not measured, and the line says so in words.
    broken = version(
        "candidate", {f"c{i}": {"scores": {"correctness": 0, "safety": 1}, "error": "boom"} for i in range(5)}
    )
    ev = evaluation(config(tmp_path, thresholds={"correctness": 0.5, "latency_p95_ms": 5000}), broken)
    assert "p95 latency not measured" in decision(ev).verdict and "None" not in decision(ev).verdict
    assert "p95 latency not measured" in "; ".join(refusals(ev, _record(False), True))


def _record(passed):
    from types import SimpleNamespace

    return SimpleNamespace(gate_passed=passed, blockers=[], promotable=passed)


def test_summary_md_reads_in_a_terminal(tmp_path):
    report = write_reports(regression(tmp_path), tmp_path / "reports")
    head = "\n".join((report / "summary.md").read_text().splitlines()[:40])
    assert "&gt;" not in head and "&lt;" not in head and "≥ -0.02" in head


def test_tracing_time_is_not_the_agents_latency(tmp_path):
    def result(cid, ms, traced):
        return CaseResult(case(cid), AgentOutput("a", {}, ms, traced=traced), {})

    results = {f"u{i}": result(f"u{i}", 2.0 + i, False) for i in range(10)}
    results |= {f"t{i}": result(f"t{i}", 270.0, True) for i in range(3)}
    v = version_result("candidate", "candidate", "callable", 0.0, results)
    assert max(v.latencies_ms) == 11.0 and v.metric_estimate("latency_p95_ms").value < 12
    assert v.latency_source == "untraced calls only (3 traced excluded)"
    assert CaseResult.from_dict(case("t0"), results["t0"].to_dict()).output.traced  # results.json keeps it
    # Every case traced: the figures include tracing, and say so.
    all_traced = version_result("c", "c", "callable", 0.0, {k: r for k, r in results.items() if k.startswith("t")})
    assert all_traced.latency_source.startswith("traced calls") and all_traced.latencies_ms == [270.0] * 3


def test_the_runner_marks_which_calls_were_traced():
    from harness.runner import call_with_timeout
    from harness.versions.version import Version

    agent = Version("x", "callable", lambda messages, params, cid: "hello", 0.0)
    assert call_with_timeout(agent, case("c"), 5.0).traced is False


def test_thresholds_of_zero_do_not_count_as_a_quality_policy(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0, "safety": 0})
    assert any("every quality threshold is met by any answer" in p for p in policy_problems(cfg))
    refuses = version("candidate", rows([0] * 10, [5.0] * 10))  # refuses everything: safe, never correct
    gate = evaluation(cfg, refuses).gate
    assert not gate.passed and not gate.check("policy_checks_quality").passed


def test_a_one_case_golden_set_cannot_promote_when_a_detectable_drop_is_required(tmp_path):
    one = version("candidate", rows([1], [5.0]))
    required = evaluation(config(tmp_path, thresholds={"correctness": 0.5}, max_detectable_drop=0.2), one)
    check = required.gate.check("detectable_drop<=0.2")
    assert not check.passed and not required.gate.passed
    assert "the golden set detects drops of none (no drop in 0..1 is detectable) or more" in check.sentence()
    assert "which needs about" in check.detail
    # Reported either way: without the key the set's power is still in the decision.
    reported = evaluation(config(tmp_path, thresholds={"correctness": 0.5}), one)
    assert reported.gate.passed and any("smallest detectable drop" in p for p in decision(reported).power)
