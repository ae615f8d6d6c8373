"""Secret detection on golden_data/secrets_corpus.jsonl: recall and false positives per kind, and time on
hostile 1 MB answers.

    python benchmarks/secret_detection.py

Recall: a secret-bearing answer counts as found when the safety scorer fails it and masking leaves
none of its raw values. A look-alike counts as a false positive when the scorer fails it or masking
changes it. Targets: recall 100%, false positives at most 2%. Timing: each hostile answer at
256 KB, 512 KB and 1 MB (the answer cap), to show time grows linearly with length; and masking the
results.json of 500 cases (target <= 0.3 s).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.golden import Case  # noqa: E402
from harness.scorers.rules import Safety  # noqa: E402
from harness.secrets import emails_in, mask  # noqa: E402
from harness.versions.version import AgentOutput  # noqa: E402

CORPUS = ROOT / "golden_data" / "secrets_corpus.jsonl"
HOSTILE = {
    "letters": "a",
    "digits": "4",
    "dapi prefixes": "dapi",
    "eyJ runs": "eyJ",
    "email-like": "a.a@",
    "assignments": "password=",
    "xoxb runs": "xoxb-1-",
    "base64 runs": "QUJDRA",
    "url-encoded": "%41",
    "PEM headers": "-----BEGIN RSA PRIVATE KEY-----",
    "quotes": "'x",
    "mixed prose": "The token dapi… was revoked by j***@example.com on 2026-11-18; password: ****. ",
}


def records() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    safety = Safety()
    found: dict[str, list[bool]] = defaultdict(list)
    false_pos: dict[str, list[bool]] = defaultdict(list)
    misses: list[str] = []
    for r in records():
        case = Case(r["id"], [{"role": "user", "content": r["question"]}], {})
        score = safety.score(case, AgentOutput(r["answer"], {}))
        masked = mask(r["answer"], emails_in([r["question"]])).text
        if r["kind"]:
            ok = not score.passed and not any(v in masked for v in r["values"])
            found[r["kind"]].append(ok)
            if not ok:
                misses.append(f"  missed {r['id']} ({r['kind']}): {score.rationale}")
        else:
            bad = not score.passed or masked != r["answer"]
            false_pos[r["about"]].append(bad)
            if bad:
                misses.append(f"  false positive {r['id']} ({r['about']}): {score.rationale}")
    print(f"{'kind':<22} {'answers':>7} {'recall':>8}")
    for kind, oks in sorted(found.items()):
        print(f"{kind:<22} {len(oks):>7} {sum(oks) / len(oks):>8.1%}")
    n_secret = sum(len(v) for v in found.values())
    print(f"{'all secrets':<22} {n_secret:>7} {sum(sum(v) for v in found.values()) / n_secret:>8.1%}   (target 100%)")
    print()
    print(f"{'look-alike':<22} {'answers':>7} {'FP rate':>8}")
    for about, bads in sorted(false_pos.items()):
        print(f"{about:<22} {len(bads):>7} {sum(bads) / len(bads):>8.1%}")
    n_look = sum(len(v) for v in false_pos.values())
    print(
        f"{'all look-alikes':<22} {n_look:>7} {sum(sum(v) for v in false_pos.values()) / n_look:>8.1%}   (target <= 2%)"
    )
    print(*misses, sep="\n")
    print()
    print("Hostile answers, seconds to score (safety) and mask; time per MB should stay flat as length doubles:")
    print(f"{'shape':<16} {'256 KB':>8} {'512 KB':>8} {'1 MB':>8} {'s/MB at 1 MB':>13}")
    case = Case("hostile", [{"role": "user", "content": "q"}], {})
    for name, unit in HOSTILE.items():
        cells = []
        for size in (256_000, 512_000, 1_000_000):
            text = (unit * (size // len(unit) + 1))[:size]
            start = time.perf_counter()
            safety.score(case, AgentOutput(text, {}))
            mask(text)
            cells.append(time.perf_counter() - start)
        print(f"{name:<16} {cells[0]:>8.2f} {cells[1]:>8.2f} {cells[2]:>8.2f} {cells[2]:>13.2f}")
    seconds, cpu = time_report_masking(500)
    print()
    print(
        f"Masking a 500-case results.json (every string, keys included): {seconds:.3f} s wall, {cpu:.3f} s "
        "CPU (target <= 0.3 s)"
    )
    return 0 if not misses else 1


def time_report_masking(n: int) -> tuple[float, float]:
    """Wall and CPU seconds `masked_results` takes on the results.json of an n-case evaluation (rule-based scorers)."""
    from harness.pipeline import evaluate
    from harness.reports.files import masked_results, results_document
    from harness.settings import HarnessConfig
    from harness.versions.resolve import adapt

    def agent(messages: list[dict[str, str]]) -> str:
        return f"The answer to '{messages[-1]['content']}' is fact-{len(messages[-1]['content'])}.\nSources: none"

    cases = [
        Case(
            f"case-{i:04d}",
            [{"role": "user", "content": f"question number {i}"}],
            {"expected_facts": [f"fact-{len(f'question number {i}')}"], "guidelines": ["cites its sources"]},
        )
        for i in range(n)
    ]
    version = replace(adapt(agent, "benchmarks:agent"), label="candidate")
    evaluation = evaluate(HarnessConfig(), cases, [version])
    document = json.loads(json.dumps(results_document(evaluation), default=str))
    wall, cpu = time.perf_counter(), time.process_time()
    masked_results(document)
    return time.perf_counter() - wall, time.process_time() - cpu


if __name__ == "__main__":
    raise SystemExit(main())
