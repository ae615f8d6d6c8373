"""Small builders for A/B tests: version results from per-case scores, without running agents."""

from __future__ import annotations

from pathlib import Path

from harness.golden import Case
from harness.pipeline import gate_evaluation, version_result
from harness.records.evaluation import Evaluation
from harness.records.results import CaseResult, VersionResult
from harness.scorers.base import Score
from harness.settings import HarnessConfig
from harness.versions.version import AgentOutput


def case(cid: str, tags=("t",), question: str = "q?") -> Case:
    return Case(cid, [{"role": "user", "content": question}], {}, list(tags))


def version(label: str, rows: dict[str, dict], reference: str | None = None) -> VersionResult:
    """rows: case id -> {"scores": {name: value or None (not applicable)}, "latency": ms, "error": str,
    "answer": str, "tags": [...]}"""
    results = {}
    for cid, row in rows.items():
        scores = {}
        for name, value in row["scores"].items():
            if value is None:
                scores[name] = Score(name, 1.0, True, "not applicable", applicable=False)
            else:
                scores[name] = Score(name, float(value), value >= 1.0, f"{name} rationale for {cid}")
        output = AgentOutput(row.get("answer", f"answer {cid}"), {}, row.get("latency", 10.0), row.get("error"))
        results[cid] = CaseResult(case(cid, row.get("tags", ("t",)), row.get("question", "q?")), output, scores)
    return version_result(label, reference or label, "callable", 0.0, results)


def evaluation(cfg: HarnessConfig, *versions: VersionResult, notes=()) -> Evaluation:
    ev = Evaluation(cfg, [r.case for r in versions[0].results.values()], list(versions), notes=list(notes))
    return gate_evaluation(ev)


def config(tmp_path: Path, **kw) -> HarnessConfig:
    kw.setdefault("thresholds", {})
    kw.setdefault("golden", [str(Path(__file__).resolve().parent / "data" / "ab.jsonl")])
    return HarnessConfig(root=tmp_path, scorers=["correctness", "safety"], **kw)
