"""deepeval metrics as LLM judges: GEval (criteria and evaluation steps from config),
AnswerRelevancyMetric, and FaithfulnessMetric with the agent's SQL sources as retrieval context.

The metrics reach the judge through deepeval's custom-model interface (`DeepEvalBaseLLM`), whose
`generate` asks the relay for JSON and validates it against the metric's own schema, so deepeval's
lenient JSON repair never sees a malformed answer: it raises, and the judge scores an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from harness.scorers.llm import LLMJudge, one_line

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.versions.version import AgentOutput

# deepeval writes `.deepeval/` into the working directory unless told otherwise (DESIGN.md).
os.environ.setdefault("DEEPEVAL_CACHE_FOLDER", os.path.join(tempfile.gettempdir(), "harness-deepeval"))
os.environ.setdefault("DEEPEVAL_FILE_SYSTEM", "READ_ONLY")

DEFAULT_CRITERIA = (
    "Determine whether the actual output states the facts of the expected output correctly for the input question."
)
DEFAULT_STEPS = [
    "List the facts in the expected output: names, dates, numbers, tables, jobs.",
    "Check that each of those facts appears in the actual output with the same value.",
    "Penalize heavily any fact in the actual output that contradicts the expected output.",
    "Do not penalize extra detail that does not contradict the expected output.",
]


def _relay_model(base_url: str, model_name: str) -> Any:
    """A deepeval custom model that sends every prompt to `base_url` (the relay)."""
    from deepeval.models import DeepEvalBaseLLM
    from pydantic import BaseModel, ValidationError

    class RelayModel(DeepEvalBaseLLM):
        def __init__(self) -> None:
            self.base_url = base_url
            super().__init__(model_name)

        def load_model(self) -> RelayModel:
            return self

        def get_model_name(self) -> str:
            return model_name

        def generate(self, prompt: str, schema: type[BaseModel] | None = None, **_: Any) -> Any:
            body: dict[str, Any] = {"messages": [{"role": "user", "content": prompt}]}
            if schema is not None:
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
                }
            request = urllib.request.Request(
                f"{self.base_url}/chat/completions",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request) as resp:
                    content = json.loads(resp.read())["choices"][0]["message"]["content"]
            except urllib.error.HTTPError as exc:
                raise RuntimeError(
                    json.loads(exc.read() or b"{}").get("error", {}).get("message", f"HTTP {exc.code}")
                ) from None
            if schema is None:
                return content
            try:
                return schema.model_validate_json(content.strip().removeprefix("```json").removesuffix("```"))
            except ValidationError as exc:
                raise RuntimeError(
                    f"judge returned JSON that does not fit {schema.__name__}: {one_line(exc)}"
                ) from None

        async def a_generate(self, prompt: str, schema: type[BaseModel] | None = None, **kwargs: Any) -> Any:
            return await asyncio.to_thread(self.generate, prompt, schema, **kwargs)

        def supports_json_mode(self) -> bool:
            return True

    return RelayModel()


class _DeepEvalJudge(LLMJudge):
    def metric(self, model: Any) -> Any:
        raise NotImplementedError

    def test_case(self, case: Case, output: AgentOutput) -> Any:
        from deepeval.test_case import LLMTestCase

        return LLMTestCase(input=case.question, actual_output=output.text)

    def verdict(self, case: Case, output: AgentOutput, base_url: str) -> tuple[float, str]:
        metric = self.metric(_relay_model(base_url, self.relay.upstream.model))
        # Synchronous, no progress bar: one judge call at a time in the caller's thread.
        metric.measure(self.test_case(case, output), _show_indicator=False)
        if metric.error:
            raise RuntimeError(metric.error)
        if metric.score is None:
            raise RuntimeError("deepeval metric returned no score")
        return float(metric.score), metric.reason or f"{type(metric).__name__} score {metric.score:.2f}"


def _expected_output(case: Case) -> str | None:
    exp = case.expectations
    if exp.get("expected_response"):
        return str(exp["expected_response"])
    if exp.get("expected_facts"):
        return "The answer states: " + "; ".join(map(str, exp["expected_facts"]))
    return None


class GEvalJudge(_DeepEvalJudge):
    kind = "deepeval.geval"

    def skip_reason(self, case: Case, output: AgentOutput) -> str | None:
        return None if _expected_output(case) else "no expected_response or expected_facts to compare with"

    def metric(self, model: Any) -> Any:
        from deepeval.metrics import GEval
        from deepeval.test_case import SingleTurnParams

        # Evaluation steps are always given: without them GEval asks the judge to write its own
        # steps for every case, which costs a call and makes scores drift (DESIGN.md).
        return GEval(
            name=self.name,
            criteria=self.spec.criteria or DEFAULT_CRITERIA,
            evaluation_steps=self.spec.evaluation_steps or DEFAULT_STEPS,
            evaluation_params=[
                SingleTurnParams.INPUT,
                SingleTurnParams.ACTUAL_OUTPUT,
                SingleTurnParams.EXPECTED_OUTPUT,
            ],
            model=model,
            threshold=self.spec.threshold,
            async_mode=False,
        )

    def test_case(self, case: Case, output: AgentOutput) -> Any:
        from deepeval.test_case import LLMTestCase

        return LLMTestCase(input=case.question, actual_output=output.text, expected_output=_expected_output(case))


class AnswerRelevancyJudge(_DeepEvalJudge):
    kind = "deepeval.answer_relevancy"

    def metric(self, model: Any) -> Any:
        from deepeval.metrics import AnswerRelevancyMetric

        return AnswerRelevancyMetric(threshold=self.spec.threshold, model=model, async_mode=False)


def retrieval_context(output: AgentOutput) -> list[Any]:
    """What the agent looked at: each source's table and SQL, and its rows when the agent reports them."""
    context: list[Any] = []
    for source in output.metadata.get("sources") or []:
        if not isinstance(source, dict):
            continue
        text = f"table {source.get('table', '?')} queried with: {source.get('sql', '')}"
        if source.get("rows") is not None:
            text += f"\nrows: {json.dumps(source['rows'], default=str)}"
        context.append(text)
    return context


class FaithfulnessJudge(_DeepEvalJudge):
    kind = "deepeval.faithfulness"

    def skip_reason(self, case: Case, output: AgentOutput) -> str | None:
        return None if retrieval_context(output) else "the answer reports no sources to be faithful to"

    def metric(self, model: Any) -> Any:
        from deepeval.metrics import FaithfulnessMetric

        return FaithfulnessMetric(threshold=self.spec.threshold, model=model, async_mode=False)

    def test_case(self, case: Case, output: AgentOutput) -> Any:
        from deepeval.test_case import LLMTestCase

        return LLMTestCase(input=case.question, actual_output=output.text, retrieval_context=retrieval_context(output))
