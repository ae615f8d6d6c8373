"""An example agent for `harness init`, laid out as a package so that it can grow.

The harness calls `answer(messages)` (`agent = "my_agent:answer"` in pyproject.toml) with the
conversation as a list of {"role", "content"} dicts and expects text back (or a dict with
"content"). It logs this whole folder with the model as its code, so add modules here (tools,
prompts, clients) and import them as `my_agent.<module>`: they travel with every logged version.
Any agent form in the harness README works in place of `answer` (an object with `predict`, a
compiled LangGraph graph, a ChatAgent, ...).
"""

from my_agent.agent import answer

__all__ = ["answer"]
