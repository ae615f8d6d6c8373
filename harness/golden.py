"""Golden dataset loading and validation (JSONL, one case a line, streamed).

A line with `turns` is a conversation: it expands here into one `Case` per turn (`<id>/turn-<k>`),
each carrying its `Conversation`, so scoring, comparison, the gate and the reports see ordinary cases
and only the runner plays the turns of a conversation together. A source `mlflow-dataset:<name>` holds
the same lines as an MLflow evaluation dataset (read through `harness.tracking.datasets`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import HarnessError
from harness.settings import DATASET_SCHEME

TAG_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ROLES = {"system", "user", "assistant", "tool"}
_LIST_EXPECTATIONS = ("expected_facts", "expected_domains", "guidelines", "must_not_contain")
# The schema of a golden line: the keys each of its objects may have. Any other key is an error
# naming the closest of these, so a typo never silently leaves a case with nothing to check.
CASE_KEYS = ("id", "inputs", "expectations", "tags", "params")
CONVERSATION_KEYS = ("id", "turns", "tags", "params", "history")
TURN_KEYS = ("inputs", "expectations")
INPUT_KEYS = ("messages",)
EXPECTATION_KEYS = (*_LIST_EXPECTATIONS, "expected_response", "expected_refusal", "expected_trajectory")
# Who keeps a conversation's earlier turns: the agent (each call sends only the new turn, with the
# conversation id) or the caller (each call sends the earlier turns and the answers to them first).
HISTORY_MODES = ("agent", "sent")
VERSION_CHARS = 12  # of a dataset's digest, as its version


@dataclass(frozen=True)
class Conversation:
    """Where a turn case sits in its conversation; `earlier` holds the messages of turns 1..turn-1,
    so a turn can be played on its own (a `-k` selection, an xdist worker) after replaying them."""

    id: str
    turn: int  # 1-based
    turns: int
    earlier: tuple[tuple[dict[str, str], ...], ...] = ()
    history: str = "agent"

    def turn_id(self, turn: int) -> str:
        return f"{self.id}/turn-{turn}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "turn": self.turn,
            "turns": self.turns,
            "history": self.history,
            "earlier": [list(messages) for messages in self.earlier],
        }

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Conversation:
        """The record `to_dict` wrote (e.g. a results.json row read back)."""
        return cls(
            row["id"],
            int(row["turn"]),
            int(row["turns"]),
            tuple(tuple(m) for m in row.get("earlier") or ()),
            row.get("history", "agent"),
        )


@dataclass(frozen=True)
class Case:
    id: str
    messages: list[dict[str, str]]
    expectations: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # "file:line", for error messages
    conversation: Conversation | None = None  # set on the turns of a multi-turn case

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
    for where, record in iter_lines(path):
        yield from parse_cases(record, where)


def iter_lines(path: Path) -> Iterator[tuple[str, Any]]:
    """Each non-blank line of a golden file, decoded, with its `file:line`."""
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
                raise HarnessError(
                    f"{where}: not valid UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1})"
                ) from None
            text = text.strip()
            if not text:
                continue
            try:
                yield where, json.loads(text)
            except json.JSONDecodeError as exc:
                raise HarnessError(f"{where}: not valid JSON: {exc.msg} at column {exc.colno}") from None


def parse_cases(record: Any, where: str) -> list[Case]:
    """The cases of one golden line: the case itself, or one case per turn of a conversation."""
    if isinstance(record, dict) and "turns" in record:
        return parse_conversation(record, where)
    return [parse_case(record, where)]


def parse_conversation(record: dict[str, Any], where: str) -> list[Case]:
    """`{"id", "turns": [{"inputs", "expectations"}, ...], "tags", "params", "history"}` -> one case per turn."""
    conv_id = _case_id(record, where)
    if "inputs" in record or "expectations" in record:
        raise HarnessError(
            f"{where}: a case with 'turns' keeps 'inputs' and 'expectations' inside each turn (case {conv_id})"
        )
    _known_keys(record, CONVERSATION_KEYS, where, "")
    turns = record["turns"]
    if not isinstance(turns, list) or not turns:
        raise HarnessError(f"{where}: 'turns' must be a non-empty list (case {conv_id})")
    history = record.get("history", "agent")
    if history not in HISTORY_MODES:
        raise HarnessError(f"{where}: 'history' must be one of {list(HISTORY_MODES)}, got {history!r} (case {conv_id})")
    tags, params = _tags(record, where, conv_id), _params(record, where, conv_id)
    parsed: list[tuple[list[dict[str, str]], dict[str, Any]]] = []
    for k, turn in enumerate(turns, start=1):
        field_ = f"turns[{k - 1}]"
        if not isinstance(turn, dict):
            raise HarnessError(f"{where}: {field_} must be an object with 'inputs' and 'expectations' (case {conv_id})")
        _known_keys(turn, TURN_KEYS, where, f"{field_}.")
        messages = _messages(turn.get("inputs"), where, conv_id, f"{field_}.inputs")
        if messages[-1]["role"] != "user":
            raise HarnessError(f"{where}: {field_}.inputs.messages must end with a user message (case {conv_id})")
        parsed.append((messages, _expectations(turn.get("expectations", {}), where, conv_id, f"{field_}.expectations")))
    cases = []
    for k, (messages, expectations) in enumerate(parsed, start=1):
        earlier = tuple(tuple(m) for m, _ in parsed[: k - 1])
        conversation = Conversation(conv_id, k, len(parsed), earlier, history)
        cases.append(
            Case(conversation.turn_id(k), messages, expectations, list(tags), dict(params), where, conversation)
        )
    return cases


def parse_case(record: Any, where: str) -> Case:
    if not isinstance(record, dict):
        raise HarnessError(f"{where}: a case must be a JSON object, got {type(record).__name__}")
    case_id = _case_id(record, where)
    _known_keys(record, CASE_KEYS, where, "")
    messages = _messages(record.get("inputs"), where, case_id, "inputs")
    expectations = _expectations(record.get("expectations", {}), where, case_id, "expectations")
    return Case(
        id=case_id,
        messages=messages,
        expectations=expectations,
        tags=_tags(record, where, case_id),
        params=_params(record, where, case_id),
        source=where,
    )


def _known_keys(record: dict[str, Any], known: tuple[str, ...], where: str, prefix: str) -> None:
    """`where: unknown key expectations.expected_fact (did you mean expected_facts?)` for the first key not in
    `known`."""
    unknown = [key for key in record if key not in known]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"known keys: {', '.join(known)}"
        raise HarnessError(f"{where}: unknown key {prefix}{unknown[0]} ({hint})")


def _case_id(record: Any, where: str) -> str:
    if not isinstance(record, dict):
        raise HarnessError(f"{where}: a case must be a JSON object, got {type(record).__name__}")
    case_id = record.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise HarnessError(f"{where}: 'id' is missing or not a non-empty string")
    return case_id


def _messages(inputs: Any, where: str, case_id: str, field_: str) -> list[dict[str, str]]:
    if not isinstance(inputs, dict):
        raise HarnessError(f"{where}: '{field_}' is missing or not an object (case {case_id})")
    _known_keys(inputs, INPUT_KEYS, where, f"{field_}.")
    messages = inputs.get("messages")
    if not isinstance(messages, list) or not messages:
        raise HarnessError(f"{where}: {field_}.messages must be a non-empty list (case {case_id})")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise HarnessError(
                f"{where}: {field_}.messages[{i}] must be an object with a string 'content' (case {case_id})"
            )
        if message.get("role") not in ROLES:
            raise HarnessError(
                f"{where}: {field_}.messages[{i}].role must be one of {sorted(ROLES)}, got "
                f"{message.get('role')!r} (case {case_id})"
            )
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def _expectations(expectations: Any, where: str, case_id: str, field_: str) -> dict[str, Any]:
    if not isinstance(expectations, dict):
        raise HarnessError(f"{where}: '{field_}' must be an object (case {case_id})")
    _known_keys(expectations, EXPECTATION_KEYS, where, f"{field_}.")
    for key in _LIST_EXPECTATIONS:
        value = expectations.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise HarnessError(f"{where}: {field_}.{key} must be a list of strings (case {case_id})")
    if "expected_refusal" in expectations and not isinstance(expectations["expected_refusal"], bool):
        raise HarnessError(f"{where}: {field_}.expected_refusal must be true or false (case {case_id})")
    if "expected_trajectory" in expectations:
        from harness.trajectory import parse_expected_trajectory

        parse_expected_trajectory(expectations["expected_trajectory"], where, case_id)
    return expectations


def _tags(record: dict[str, Any], where: str, case_id: str) -> list[str]:
    tags = record.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise HarnessError(f"{where}: 'tags' must be a list of strings (case {case_id})")
    for tag in tags:
        if not TAG_PATTERN.match(tag):
            raise HarnessError(
                f"{where}: tag {tag!r} must be letters, digits and underscores, to work as a pytest marker "
                f"(case {case_id})"
            )
    return list(tags)


def _params(record: dict[str, Any], where: str, case_id: str) -> dict[str, Any]:
    params = record.get("params", {})
    if not isinstance(params, dict):
        raise HarnessError(f"{where}: 'params' must be an object (case {case_id})")
    return params


def load_golden(paths: Sequence[Path]) -> list[Case]:
    """Load every source (a JSONL file or `mlflow-dataset:<name>[@<version>]`), rejecting duplicate ids
    across all of them."""
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in paths:
        for case in source_cases(path)[1]:
            if case.id in seen:
                raise HarnessError(f"{case.source}: duplicate case id '{case.id}' (first at {seen[case.id]})")
            seen[case.id] = case.source
            cases.append(case)
    if not cases:
        raise HarnessError(f"{', '.join(map(str, paths))}: no cases found")
    return cases


def dataset_source(path: Path | str) -> tuple[str, str | None] | None:
    """(name, version) of an `mlflow-dataset:<name>[@<version>]` golden source; None for a file."""
    text = str(path)
    if not text.startswith(DATASET_SCHEME):
        return None
    name, _, version = text[len(DATASET_SCHEME) :].partition("@")
    if not name:
        raise HarnessError(f"{text}: names no dataset (write {DATASET_SCHEME}<name>[@<version>])")
    return name, version or None


def source_cases(path: Path) -> tuple[str, Iterator[Case] | list[Case]]:
    """The label a source is sealed under and its cases: a file's name (streamed), or an MLflow evaluation
    dataset's `mlflow-dataset:<name>@<version>`, its version the start of its cases' digest (MLflow keeps
    no versions of a dataset outside Databricks, so a pinned version checks the records have not changed)."""
    source = dataset_source(path)
    if source is None:
        return path.name, iter_golden(path)
    from harness.tracking.datasets import read_dataset

    name, pinned = source
    cases = [case for where, line in read_dataset(name).lines for case in parse_cases(line, where)]
    version = cases_sha256(cases)[:VERSION_CHARS]
    if pinned and pinned != version:
        raise HarnessError(
            f"{path}: the dataset's records are at version {version} now, not {pinned} (the store keeps only "
            f"the latest records: pull them, or pin {DATASET_SCHEME}{name}@{version})"
        )
    return f"{DATASET_SCHEME}{name}@{version}", cases


def cases_sha256(cases: Sequence[Case]) -> str:
    """sha256 over the cases as parsed: what a dataset source is sealed by, whatever MLflow stores beside it."""
    digest = hashlib.sha256()
    for case in cases:
        row = {**case.to_record(), "conversation": case.conversation.to_dict() if case.conversation else None}
        digest.update(json.dumps(row, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    return digest.hexdigest()


def source_digest(path: Path) -> tuple[str, str]:
    """(label, sha256) of a golden source: a file's name and content digest, a dataset's name@version and
    its cases' digest."""
    if dataset_source(path) is None:
        return path.name, file_digest(path)
    label, cases = source_cases(path)
    return label, cases_sha256(list(cases))


def file_digest(path: Path) -> str:
    """sha256 of a golden file, streamed; logged so a run names the exact data it used."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
