"""Building comparisons: pairing, test choice, Holm, verdicts, dropped cases, warnings, latency, schema."""

import json
import math

import pytest

from harness.compare import compare_versions
from harness.records.comparison import comparison_schema
from tests.compare.helpers import version


def rows(correctness, safety=None, latency=None, tags=None):
    safety = safety or [1] * len(correctness)
    latency = latency or [10.0] * len(correctness)
    return {
        f"c{i:02d}": {"scores": {"correctness": c, "safety": s}, "latency": ms, "tags": (tags[i] if tags else ["t"])}
        for i, (c, s, ms) in enumerate(zip(correctness, safety, latency))
    }


def test_regression_is_worse_with_mcnemar_and_holm():
    base = version("baseline", rows([1] * 24))
    cand = version("candidate", rows([1, 0] * 12))
    c = compare_versions(cand, base, {"correctness": 0.02, "safety": 0.0})
    m = c.metric("correctness")
    assert m.test == "mcnemar" and m.n == 24
    assert m.mcnemar == {"baseline_only": 12, "candidate_only": 0, "both": 12, "neither": 0}
    assert m.p_value == pytest.approx(2 * 0.5**12) and m.p_worse == pytest.approx(0.5**12)
    tested = [x for x in c.metrics if not math.isnan(x.p_value)]
    assert len(tested) == 3  # correctness, safety, overall
    # Holm's family is the gated metrics (those with a margin): correctness and safety, not overall.
    assert m.p_adjusted == pytest.approx(min(1, 2 * m.p_value))  # the smallest p: Holm's first step
    assert math.isnan(c.metric("overall").p_adjusted)
    assert m.verdict == "worse" and (m.wins, m.losses, m.ties) == (0, 12, 12)
    assert m.baseline == 1.0 and m.candidate == 0.5 and m.delta == pytest.approx(-0.5)
    assert m.ci_low <= -0.5 <= m.ci_high and m.ci_high < 0
    assert c.metric("safety").verdict == "no significant difference" and c.metric("safety").p_value == 1.0
    overall = c.metric("overall")
    assert overall.test == "wilcoxon" and overall.verdict == "worse"  # 0.5 vs 1.0 per case: not pass/fail
    assert [x.metric for x in c.regressions] == ["correctness", "overall"]
    assert {d.outcome for d in c.cases} == {"loss", "tie"}
    assert any("correctness: 1.000 -> 0.500" in line for line in c.headline_lines())


def test_improvement_is_better_and_noise_is_not_significant():
    base = version("baseline", rows([0.2, 0.4, 0.5, 0.3, 0.6, 0.1, 0.5, 0.4, 0.2, 0.3] * 2))
    better = version("candidate", rows([0.9, 0.8, 0.9, 0.7, 1.0, 0.6, 0.9, 0.8, 0.7, 0.9] * 2))
    assert compare_versions(better, base).metric("correctness").verdict == "better"
    assert compare_versions(better, base).metric("correctness").test == "wilcoxon"
    noisy = version("candidate", rows([0.3, 0.3, 0.5, 0.4, 0.5, 0.1, 0.6, 0.4, 0.1, 0.3] * 2))
    assert compare_versions(noisy, base).metric("correctness").verdict == "no significant difference"


def test_only_shared_and_applicable_cases_are_paired():
    base = version("baseline", {**rows([1, 1, 1]), "only-base": {"scores": {"correctness": 1, "safety": 1}}})
    cand_rows = rows([1, 0, None])
    cand_rows["only-cand"] = {"scores": {"correctness": 0, "safety": 1}}
    c = compare_versions(version("candidate", cand_rows), base)
    assert c.n_shared == 3 and c.only_candidate == ["only-cand"] and c.only_baseline == ["only-base"]
    assert c.metric("correctness").n == 2  # c02 is not applicable to the candidate
    assert any("dropped 1 only in the candidate and 1 only in the baseline" in w for w in c.warnings)


def test_too_few_cases_warns():
    c = compare_versions(version("candidate", rows([0] * 4)), version("baseline", rows([1] * 4)))
    m = c.metric("correctness")
    assert m.delta == -1.0 and m.verdict == "no significant difference"  # 4 cases can never reach p < 0.05
    assert any(w.startswith("too few cases: with 4 paired case(s)") for w in c.warnings)


def test_margin_smaller_than_detectable_difference_warns():
    base = version("baseline", rows([1, 0, 1, 1, 0, 1, 1, 1, 0, 1] * 3))
    cand = version("candidate", rows([1, 1, 0, 1, 0, 1, 0, 1, 1, 1] * 3))
    c = compare_versions(cand, base, non_inferiority={"correctness": 0.02})
    assert c.metric("correctness").margin == 0.02
    warning = next(w for w in c.warnings if w.startswith("too few cases for correctness"))
    assert "larger than the margin 0.02" in warning and "observed per-case sd" in warning


def test_agent_errors_are_failed_cases_and_excluded_from_latency():
    base_rows = rows([1] * 10, latency=[10.0] * 10)
    cand_rows = rows([1] * 10, latency=[20.0] * 10)
    cand_rows["c00"]["error"] = "RuntimeError: boom"
    cand_rows["c00"]["scores"] = {"correctness": 0, "safety": 0}
    c = compare_versions(version("candidate", cand_rows), version("baseline", base_rows))
    assert c.metric("correctness").losses == 1
    p50 = c.latency_ratio("p50")
    assert p50.n == 9 and p50.ratio == pytest.approx(2.0) and p50.verdict == "worse"
    assert p50.describe() == "2.00x (slower) [2.00, 2.00]"
    assert any("1 in the candidate, 0 in the baseline" in w for w in c.warnings)


def test_to_dict_follows_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    c = compare_versions(
        version("candidate", rows([1, 0] * 12)), version("baseline", rows([1] * 24)), {"correctness": 0.05}
    )
    document = json.loads(json.dumps(c.to_dict(), allow_nan=False))  # NaN/inf written as null
    jsonschema.validate(document, comparison_schema())
    document["metrics"][0]["verdict"] = "maybe"  # the generated schema holds the records' enums
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, comparison_schema())


def test_to_dict_shape_without_jsonschema():
    c = compare_versions(version("candidate", rows([0] * 3)), version("baseline", rows([1] * 3)))
    document = json.loads(json.dumps(c.to_dict(), allow_nan=False))
    schema = comparison_schema()
    for key in schema["required"]:
        assert key in document
    for metric in document["metrics"]:
        assert set(schema["$defs"]["MetricComparison"]["required"]) <= set(metric)
        assert metric["verdict"] in ("better", "worse", "no significant difference")
