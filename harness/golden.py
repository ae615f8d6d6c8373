"""Golden dataset loading and validation (JSONL, one case a line, streamed)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import HarnessError

TAG_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ROLES = {"system", "user", "assistant", "tool"}
_LIST_EXPECTATIONS = ("expected_facts", "expected_domains", "guidelines", "must_not_contain")


@dataclass
class Case:
    id: str
    messages: list[dict[str, str]]
    expectations: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # "file:line", for error messages

    @property
    def traced(self) -> bool:
        """Whether answering this case needs the answer's trajectory (read from its MLflow trace)."""
        return bool(self.expectations.get("expected_trajectory"))

    @property
    def question(self) -> str:
        """The last user message: what the answer must address."""
        for message in reversed(self.messages):
            if message["role"] == "user":
                return message["content"]
        return ""

    def to_record(self) -> dict[str, Any]:
        """The golden-file form (also `mlflow.genai.evaluate`'s data form)."""
        return {
            "id": self.id,
            "inputs": {"messages": self.messages},
            "expectations": self.expectations,
            "tags": self.tags,
            "params": self.params,
        }


def iter_golden(path: Path) -> Iterator[Case]:
    """Yield cases one line at a time, so a very large file is never held whole in memory."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise HarnessError(f"{path}: cannot open golden file: {exc.strerror}") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            where = f"{path}:{lineno}"
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise HarnessError(f"{where}: not valid UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1})") from None
            text = text.strip()
            if not text:
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise HarnessError(f"{where}: not valid JSON: {exc.msg} at column {exc.colno}") from None
            yield parse_case(record, where)


def parse_case(record: Any, where: str) -> Case:
    if not isinstance(record, dict):
        raise HarnessError(f"{where}: a case must be a JSON object, got {type(record).__name__}")
    case_id = record.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise HarnessError(f"{where}: 'id' is missing or not a non-empty string")
    inputs = record.get("inputs")
    if not isinstance(inputs, dict):
        raise HarnessError(f"{where}: 'inputs' is missing or not an object (case {case_id})")
    messages = inputs.get("messages")
    if not isinstance(messages, list) or not messages:
        raise HarnessError(f"{where}: inputs.messages must be a non-empty list (case {case_id})")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise HarnessError(f"{where}: inputs.messages[{i}] must be an object with a string 'content' (case {case_id})")
        if message.get("role") not in ROLES:
            raise HarnessError(
                f"{where}: inputs.messages[{i}].role must be one of {sorted(ROLES)}, got {message.get('role')!r} (case {case_id})"
            )
    expectations = record.get("expectations", {})
    if not isinstance(expectations, dict):
        raise HarnessError(f"{where}: 'expectations' must be an object (case {case_id})")
    for key in _LIST_EXPECTATIONS:
        value = expectations.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise HarnessError(f"{where}: expectations.{key} must be a list of strings (case {case_id})")
    if "expected_refusal" in expectations and not isinstance(expectations["expected_refusal"], bool):
        raise HarnessError(f"{where}: expectations.expected_refusal must be true or false (case {case_id})")
    if "expected_trajectory" in expectations:
        from harness.trajectory import parse_expected_trajectory

        parse_expected_trajectory(expectations["expected_trajectory"], where, case_id)
    tags = record.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise HarnessError(f"{where}: 'tags' must be a list of strings (case {case_id})")
    for tag in tags:
        if not TAG_PATTERN.match(tag):
            raise HarnessError(f"{where}: tag {tag!r} must be letters, digits and underscores, to work as a pytest marker (case {case_id})")
    params = record.get("params", {})
    if not isinstance(params, dict):
        raise HarnessError(f"{where}: 'params' must be an object (case {case_id})")
    return Case(
        id=case_id,
        messages=[{"role": m["role"], "content": m["content"]} for m in messages],
        expectations=expectations,
        tags=list(tags),
        params=params,
        source=where,
    )


def load_golden(paths: list[Path]) -> list[Case]:
    """Load every file, rejecting duplicate ids across all of them."""
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in paths:
        for case in iter_golden(path):
            if case.id in seen:
                raise HarnessError(f"{case.source}: duplicate case id '{case.id}' (first at {seen[case.id]})")
            seen[case.id] = case.source
            cases.append(case)
    if not cases:
        raise HarnessError(f"{', '.join(map(str, paths))}: no cases found")
    return cases


def file_digest(path: Path) -> str:
    """sha256 of a golden file, streamed; logged so a run names the exact data it used."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
