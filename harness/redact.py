"""Mask secrets before anything is written where people read it: reports and MLflow artifacts.

A report quotes agent answers, errors and golden inputs; if an agent leaks a token, the report
must not become a second copy of the leak. Masked here: access tokens (`dapi…`, GitHub, OpenAI,
AWS keys), `password=` / `secret:` / `api_key=` style assignments, and email addresses that the
safety scorer flags as PII (an address counts as PII unless the case's own input named it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Every quantifier that could run over a long stretch is bounded: an agent answer may be 1 MB of
# "xxxx…", and an unbounded `[…]+@` rescans the rest of the text from every position (quadratic:
# a 1 MB answer took half an hour to score). Bounds follow RFC 5321 (local part 64, label 63).
TOKEN = re.compile(r"\b(?:dapi[0-9A-Za-z]{4,}|ghp_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16})")
CREDENTIAL = re.compile(r"(?i)\b(password|passwd|secret|api[_-]?key|access[_-]?key|token)([ \t]{0,3}[:=][ \t]{0,3})(['\"]?)([^\s'\",;]{4,})")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}")
MASK = "[REDACTED]"


def emails_in(texts: Iterable[str]) -> frozenset[str]:
    """Lower-cased email addresses in `texts`: the ones a user asked about, which are not PII leaks."""
    return frozenset(m.group(0).lower() for t in texts for m in EMAIL.finditer(t))


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def redact(text: str, allowed_emails: frozenset[str] = frozenset()) -> str:
    """`text` with tokens, credential values and unrequested email addresses masked."""
    text = TOKEN.sub(MASK, text)
    # Keep the key name and separator so a reader still sees *what* leaked, just not its value.
    text = CREDENTIAL.sub(lambda m: m.group(1) + m.group(2) + m.group(3) + MASK if MASK not in m.group(4) else m.group(0), text)
    return EMAIL.sub(lambda m: m.group(0) if m.group(0).lower() in allowed_emails else mask_email(m.group(0)), text)


def redact_tree(value: Any, allowed_emails: frozenset[str] = frozenset()) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with every string, key included, redacted."""
    if isinstance(value, str):
        return redact(value, allowed_emails)
    if isinstance(value, dict):
        return {redact_tree(k, allowed_emails) if isinstance(k, str) else k: redact_tree(v, allowed_emails) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_tree(v, allowed_emails) for v in value]
    return value


def redact_results(document: dict[str, Any]) -> dict[str, Any]:
    """A results.json document with each case redacted against the emails its own messages name."""
    out = {key: redact_tree(value) for key, value in document.items() if key != "versions"}
    out["versions"] = []
    for version in document.get("versions", []):
        cases = [redact_tree(row, emails_in(m.get("content", "") for m in row.get("messages") or [])) for row in version.get("cases", [])]
        out["versions"].append({**{k: redact_tree(v) for k, v in version.items() if k != "cases"}, "cases": cases})
    return out
