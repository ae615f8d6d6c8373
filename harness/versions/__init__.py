"""Agent versions: what a session evaluates and how each one answers.

- `version`: the `Version` record (one adapter, `predict -> (text, metadata)`) and `AgentOutput`;
- `resolve`: a reference (`module:attr`, `file.py`, `models:/`, `runs:/`, endpoints) -> `Version`;
- `baseline`: the candidate and the baselines a session compares it with;
- `process/`: a logged agent answering from its own sandboxed process;
- `endpoints/`: served agents (MLflow scoring servers, OpenAI-compatible APIs) as versions.
"""
