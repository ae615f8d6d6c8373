"""Shared fixtures: hostile golden files written the way real ones go wrong (BOM, CRLF)."""

from __future__ import annotations

import json
from pathlib import Path


def write_golden(path: Path, records: list[dict], bom: bool = False, newline: str = "\n") -> Path:
    """A golden JSONL file, optionally with a UTF-8 byte-order mark and Windows line endings."""
    body = newline.join(json.dumps(r, ensure_ascii=False) for r in records) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8"))
    return path


def case(case_id: str, question: str, facts: list[str] | None = None, **expectations) -> dict:
    return {
        "id": case_id,
        "inputs": {"messages": [{"role": "user", "content": question}]},
        "expectations": {"expected_facts": facts or [], "must_not_contain": ["dapi"], **expectations},
    }
