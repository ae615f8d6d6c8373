"""Masked copies of texts and JSON-like values, and the one line a report gives the counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.secrets.detect import CACHED_CHARS, CACHED_TEXTS, findings_in
from harness.secrets.sanitize import sanitize_terminal

MASK = "[REDACTED]"


@dataclass(frozen=True)
class MaskResult:
    text: str
    counts: Mapping[str, int] = field(default_factory=dict)  # masked values per kind


@dataclass(frozen=True)
class TreeMaskResult:
    value: Any
    counts: Mapping[str, int] = field(default_factory=dict)


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask(text: str, allowed_emails: Iterable[str] = ()) -> MaskResult:
    """`text` with every finding replaced by [REDACTED] (an email keeps its first letter and domain)."""
    return _masked(text, frozenset(e.lower() for e in allowed_emails))


def _masked(text: str, allowed: frozenset[str]) -> MaskResult:
    findings = findings_in(text, allowed) if text else ()
    if not findings:
        return MaskResult(text, {})
    parts: list[str] = []
    at = 0
    for f in findings:
        parts.append(text[at : f.start])
        value = text[f.start : f.end]
        parts.append(mask_email(value) if f.kind == "email" and not f.encoding and "@" in value else MASK)
        at = f.end
    parts.append(text[at:])
    return MaskResult("".join(parts), dict(Counter(f.kind for f in findings)))


class TreeMasker:
    """Masks JSON-like values (dicts, lists, strings; keys included) against one set of allowed emails.

    A report repeats the same strings thousands of times (keys, scorer names, rationales): each
    distinct one is masked once per masker and its copy reused, a dictionary lookup.
    """

    def __init__(self, allowed_emails: Iterable[str] = ()) -> None:
        self.allowed = frozenset(e.lower() for e in allowed_emails)
        self.seen: dict[str, MaskResult] = {}

    def __call__(self, value: Any) -> TreeMaskResult:
        counts: Counter[str] = Counter()
        seen = self.seen
        if len(seen) > CACHED_TEXTS:
            seen.clear()

        def walk(v: Any) -> Any:
            if isinstance(v, str):
                result = seen.get(v)
                if result is None:
                    result = _masked(v, self.allowed)
                    if len(v) <= CACHED_CHARS:
                        seen[v] = result
                if result.counts:
                    counts.update(result.counts)
                return result.text
            if isinstance(v, dict):
                return {walk(k) if isinstance(k, str) else k: walk(item) for k, item in v.items()}
            if isinstance(v, (list, tuple)):
                return [walk(item) for item in v]
            return v

        return TreeMaskResult(walk(value), dict(counts))


def mask_tree(value: Any, allowed_emails: Iterable[str] = ()) -> TreeMaskResult:
    """A copy of a JSON-like value (dicts, lists, strings) with every string, keys included, masked."""
    return TreeMasker(allowed_emails)(value)


def add_counts(*counts: Mapping[str, int]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    return dict(sorted(total.items()))


def masked_line(counts: Mapping[str, int]) -> str:
    """One line for a report: how many values were masked, per kind."""
    total = sum(counts.values())
    if not total:
        return "Secrets masked: none."
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"Secrets masked: {total} value(s) ({kinds})."


def safe(text: str, asked: frozenset[str] = frozenset()) -> str:
    """`text` with secrets masked (emails in `asked` kept) and control characters made visible: what a terminal
    may show."""
    return sanitize_terminal(mask(text, asked).text)
