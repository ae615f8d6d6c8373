"""LLM judges as harness scorers: deepeval and MLflow judges behind one loopback relay.

`LLMJudge` is what every judge shares (applicability, repeats, any failure scored as an error,
never a pass); the judges themselves are in deepeval_judges.py and (MLflow's) harness/tracking/judges.py, the relay
they call in relay.py, the `[tool.harness.judges]` table in judge_specs.py, and building the configured judges in
judges.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from harness import HarnessError
from harness.scorers.base import Score, failed, not_applicable
from harness.scorers.judge_specs import JudgeSpec
from harness.scorers.relay import JudgeCallError, JudgeRelay

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.versions.version import AgentOutput

ENABLE_HINT = "pip install -e '.[local-llm]' (or '.[deepeval]' for a remote judge) to enable LLM judges"


class LLMJudge:
    """Base of every LLM judge scorer: applicability, repeats, and turning any failure into an error score.

    A subclass sets `kind` and implements `skip_reason` (why a case has nothing to judge, or None)
    and `verdict` (one judge call through `base_url`, returning value 0..1 and rationale).
    """

    kind = ""

    def __init__(self, name: str, spec: JudgeSpec, relay: JudgeRelay, repeats: int = 1) -> None:
        self.name = name
        self.spec = spec
        self.relay = relay
        self.repeats = repeats
        self.judge = f"{self.kind}@{relay.upstream.uri}"
        self.flips = 0  # answers whose repeats disagreed on pass/fail
        self.repeated = 0  # answers scored more than once

    def skip_reason(self, case: Case, output: AgentOutput) -> str | None:
        return None

    def verdict(self, case: Case, output: AgentOutput, base_url: str) -> tuple[float, str]:
        raise NotImplementedError

    def score(self, case: Case, output: AgentOutput) -> Score:
        reason = self.skip_reason(case, output)
        if reason:
            return not_applicable(self.name, self.judge, reason)
        verdicts: list[tuple[float, str]] = []
        for repeat in range(self.repeats):
            try:
                verdicts.append(self.verdict(case, output, self.relay.base_url(self.name, repeat)))
            except Exception as exc:  # any library failure is this judge's error, never a pass
                return failed(self.name, self.judge, f"judge error: {one_line(exc)}")
        passes = [value >= self.spec.threshold for value, _ in verdicts]
        value = sum(v for v, _ in verdicts) / len(verdicts)
        rationale = verdicts[0][1]
        if len(verdicts) > 1:
            self.repeated += 1
            if len(set(passes)) > 1:
                self.flips += 1
                rationale = f"unstable judge: {sum(passes)} of {len(passes)} repeats passed; {rationale}"
        # A majority of repeats must pass: one lucky repeat does not make an answer pass.
        passed = sum(passes) * 2 > len(passes)
        return Score(self.name, value, passed, rationale, self.judge)

    @property
    def flip_rate(self) -> float | None:
        return self.flips / self.repeated if self.repeated else None


def one_line(exc: BaseException) -> str:
    """An exception as one short line: library errors often carry whole prompts and tracebacks."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, JudgeCallError):
        return text
    # MLflow wraps the relay's message in its own; keep the relay's part, which says what failed.
    inner = re.search(r"(unparseable judge answer.*|judge refused.*|judge endpoint .*|judge returned .*)", text)
    text = inner.group(1) if inner else f"{type(exc).__name__}: {text}"
    return text if len(text) <= 300 else text[:300] + "…"


def check_llm_extras() -> None:
    """Fail in one line when the libraries the LLM judges need are not installed."""
    import importlib.util

    missing = [m for m in ("deepeval", "mlflow") if importlib.util.find_spec(m) is None]
    if missing:
        raise HarnessError(f"--judge-model needs {', '.join(missing)}: {ENABLE_HINT}")
