"""MLflow judges as LLM judges: Correctness, RelevanceToQuery, Safety, Guidelines, and make_judge.

MLflow judges take a `provider:/model` URI and no base URL, so each call runs inside
`openai_env(relay URL)` with `openai:/<model>`; the relay forwards to the configured endpoint.
A verdict other than yes/no (or true/false) is an error, never a pass.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.scorers.llm import LLMJudge

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.versions.version import AgentOutput

YES = {"yes", "true", "pass", "passed"}
NO = {"no", "false", "fail", "failed"}

_ENV_LOCK = threading.Lock()


@contextmanager
def openai_env(base_url: str) -> Iterator[None]:
    """Point the process's OpenAI settings at the relay for one MLflow judge call.

    MLflow's built-in judges take no base_url: their openai provider reads OPENAI_API_BASE /
    OPENAI_BASE_URL at call time. The lock keeps concurrent judge calls from seeing each other's
    URL; the previous values come back afterwards, so an agent's own OpenAI client is unaffected.
    """
    names = ("OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_API_KEY")
    with _ENV_LOCK:
        saved = {n: os.environ.get(n) for n in names}
        os.environ.pop("OPENAI_API_BASE", None)
        os.environ["OPENAI_BASE_URL"] = base_url
        os.environ["OPENAI_API_KEY"] = "relay"  # the relay holds the real key
        try:
            yield
        finally:
            for n, v in saved.items():
                if v is None:
                    os.environ.pop(n, None)
                else:
                    os.environ[n] = v


class _MlflowJudge(LLMJudge):
    def scorer(self, model_uri: str, case: Case) -> Any:
        raise NotImplementedError

    def arguments(self, case: Case, output: AgentOutput) -> dict[str, Any]:
        return {"inputs": {"question": case.question}, "outputs": output.text}

    def verdict(self, case: Case, output: AgentOutput, base_url: str) -> tuple[float, str]:
        scorer = self.scorer(f"openai:/{self.relay.upstream.model}", case)
        with openai_env(base_url):
            feedback = scorer(**self.arguments(case, output))
        if getattr(feedback, "error", None):
            error = feedback.error
            raise RuntimeError(getattr(error, "error_message", None) or str(error))
        value = feedback.value
        text = str(getattr(value, "value", value)).strip().lower()
        if text in YES:
            return 1.0, feedback.rationale or "judge said yes"
        if text in NO:
            return 0.0, feedback.rationale or "judge said no"
        raise RuntimeError(f"judge returned verdict {value!r}, not yes/no")


class CorrectnessJudge(_MlflowJudge):
    kind = "mlflow.correctness"

    def skip_reason(self, case: Case, output: AgentOutput) -> str | None:
        exp = case.expectations
        return (
            None
            if exp.get("expected_facts") or exp.get("expected_response")
            else "no expected_facts or expected_response to compare with"
        )

    def scorer(self, model_uri: str, case: Case) -> Any:
        from mlflow.genai.scorers import Correctness

        return Correctness(name=self.name, model=model_uri)

    def arguments(self, case: Case, output: AgentOutput) -> dict[str, Any]:
        exp = case.expectations
        # MLflow accepts one of the two; the facts are the sharper check.
        expectations = (
            {"expected_facts": exp["expected_facts"]}
            if exp.get("expected_facts")
            else {"expected_response": exp["expected_response"]}
        )
        return {**super().arguments(case, output), "expectations": expectations}


class RelevanceJudge(_MlflowJudge):
    kind = "mlflow.relevance_to_query"

    def scorer(self, model_uri: str, case: Case) -> Any:
        from mlflow.genai.scorers import RelevanceToQuery

        return RelevanceToQuery(name=self.name, model=model_uri)


class SafetyJudge(_MlflowJudge):
    kind = "mlflow.safety"

    def scorer(self, model_uri: str, case: Case) -> Any:
        from mlflow.genai.scorers import Safety

        return Safety(name=self.name, model=model_uri)

    def arguments(self, case: Case, output: AgentOutput) -> dict[str, Any]:
        return {"outputs": output.text}


class GuidelinesJudge(_MlflowJudge):
    kind = "mlflow.guidelines"

    def guidelines(self, case: Case) -> list[str]:
        return [*self.spec.guidelines, *(case.expectations.get("guidelines") or [])]

    def skip_reason(self, case: Case, output: AgentOutput) -> str | None:
        return None if self.guidelines(case) else "no guidelines to check"

    def scorer(self, model_uri: str, case: Case) -> Any:
        from mlflow.genai.scorers import Guidelines

        return Guidelines(name=self.name, guidelines=self.guidelines(case), model=model_uri)


class InstructionsJudge(_MlflowJudge):
    """`make_judge` with the instructions from `[tool.harness.judges.<name>]`."""

    kind = "mlflow.make_judge"

    def scorer(self, model_uri: str, case: Case) -> Any:
        from typing import Literal

        from mlflow.genai.judges import make_judge

        return make_judge(
            name=self.name,
            instructions=self.spec.instructions,
            model=model_uri,
            feedback_value_type=Literal["yes", "no"],
        )

    def arguments(self, case: Case, output: AgentOutput) -> dict[str, Any]:
        args = super().arguments(case, output)
        if "expectations" in self.spec.instructions:
            args["expectations"] = case.expectations
        return args


TRAJECTORY_INSTRUCTIONS = (
    "You judge the route an AI agent took to answer a question, not the answer's wording. The question "
    "is in {{ inputs }}; the steps the agent took, in the order they started, and its answer are in "
    "{{ outputs }}. Was this route reasonable for the question: the steps it needs, none missing, no "
    "needless, repeated or unrelated calls? Answer yes or no."
)


class TrajectoryJudge(InstructionsJudge):
    """Reference-free: was the route an answer took reasonable for its question (no expected steps needed).
    An answer with no recorded route on a case that is traced fails as not traced; other cases are skipped."""

    kind = "mlflow.trajectory"
    reads_trajectory = True  # the runner traces the answers this judge scores

    def skip_reason(self, case: Case, output: AgentOutput) -> str | None:
        if output.trajectory is None and not case.traced:
            return "no route recorded (only the cases with an expected_trajectory are traced)"
        return None

    def verdict(self, case: Case, output: AgentOutput, base_url: str) -> tuple[float, str]:
        if output.trajectory is None:
            return 0.0, "not traced: no route to judge"
        return super().verdict(case, output, base_url)

    def scorer(self, model_uri: str, case: Case) -> Any:
        from typing import Literal

        from mlflow.genai.judges import make_judge

        return make_judge(
            name=self.name,
            instructions=self.spec.instructions or TRAJECTORY_INSTRUCTIONS,
            model=model_uri,
            feedback_value_type=Literal["yes", "no"],
        )

    def arguments(self, case: Case, output: AgentOutput) -> dict[str, Any]:
        from harness.trajectory import step_label

        route = [step_label(step) for step in output.trajectory or ()]
        return {"inputs": {"question": case.question}, "outputs": {"route": route, "answer": output.text}}
