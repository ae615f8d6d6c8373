"""Guards: prompt-injection / secret-extraction detection, SQL-write detection, and output
redaction (tokens and secrets always, email addresses unless the user named them)."""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
TOKEN_RE = re.compile(r"dapi[0-9a-zA-Z]{4,}", re.IGNORECASE)
SECRET_ASSIGN_RE = re.compile(r"\b(password|passwd|secret|api[_-]?key|token)\s*[=:]\s*\S+", re.IGNORECASE)

_INJECTION = [
    r"\b(ignore|disregard|forget|override|bypass|never ?mind|set "
    r"aside)\b[^.?!]{0,40}\b(instructions?|rules|prompts?|guidelines|guardrails|polic(y|ies)|restrictions)\b",
    r"\b(system|hidden|initial|original|developer)\s+(prompt|message|instructions)\b",
    r"\bdeveloper mode\b|\bjailbreak|\bdo anything now\b|\bDAN\b",
    r"\byou are now\b|\bfrom now on you\b|\bpretend (to be|you are)\b|\bact as (an? "
    r")?(unrestricted|admin|root|different)",
    r"\bno (restrictions|filters|rules)\b",
]
_SECRET_NOUN = (
    r"(tokens?(?!\s*(creat|event|usage|activit|generat|issu))|token values?|access keys?|api[ "
    r"_-]?keys?|passwords?|passwd|secrets?|credentials?|"
    r"private keys?|connection strings?|request param(eter)?s|pat\b|bearer)"
)
_REVEAL_VERB = (
    r"(show|reveal|print|give|tell|display|dump|output|share|list|send|expose|unmask|decode|copy|"
    r"paste|include|read out|read me|what is|what's|what are|what was|what were|echo|repeat|return|extract|get me|find)"
)
_SECRET = [
    rf"\b{_REVEAL_VERB}\b[^.?!]{{0,60}}\b{_SECRET_NOUN}",
    rf"\b{_SECRET_NOUN}\b[^.?!]{{0,30}}\b(value|itself|in full|verbatim|in plain ?text|unredacted|unmasked)\b",
    r"\bdapi",
    r"\b(unmask|unredact|full|unmasked|unredacted|complete|real)\b[^.?!]{0,30}\be-?mail",
    r"\be-?mail addresses\b[^.?!]{0,30}\b(unmasked|unredacted|in full|of (all|every))",
    # asked for outright: "the value of the ... token", "what secrets are stored ..."
    r"\bvalues?\s+of\b[^.?!]{0,40}\b(tokens?|passwords?|secrets?|credentials?|api[ _-]?keys?|access keys?)\b",
    r"\bwhat\s+(secrets|passwords|credentials)\b",
]
_SQL_WRITE = re.compile(
    r"\b(drop|truncate|alter)\s+(table|database|schema|view)\b|\bdelete\s+from\b|\binsert\s+into\b|"
    r"\bupdate\s+\w+\s+set\b|\bcreate\s+(or\s+replace\s+)?(table|database|schema|view)\b|\battach\b\s+'|"
    # union select: reads tables the question never named
    r"\bcopy\s+\w+\s+(to|from)\b|'\s*;\s*--|;\s*--|\bunion\s+(all\s+)?select\b",
    re.IGNORECASE,
)
_INJECTION_RE = [re.compile(p, re.IGNORECASE) for p in _INJECTION]
_SECRET_RE = [re.compile(p, re.IGNORECASE) for p in _SECRET]

REFUSAL = (
    "I can't share secrets, tokens or credentials, and I won't ignore my instructions. "
    "I can help with cost, security, performance, reliability and data quality questions about the platform."
)
SQL_REFUSAL = (
    "I can't run SQL statements or change any data: I only read platform telemetry through my own "
    "read-only queries. Ask me about cost, security, performance, reliability or data quality instead."
)


def is_injection_or_secret_request(text: str) -> bool:
    t = text[:20_000]
    return any(r.search(t) for r in _INJECTION_RE) or any(r.search(t) for r in _SECRET_RE)


def is_sql_write(text: str) -> bool:
    return bool(_SQL_WRITE.search(text[:20_000]))


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def emails_in(texts: Iterable[str]) -> set[str]:
    return {m.group(0).lower() for t in texts if t for m in EMAIL_RE.finditer(t)}


def redact(text: str, allowed_emails: Iterable[str] = ()) -> str:
    """Remove tokens and secret assignments; mask every email address not in ``allowed_emails``."""
    allowed = {e.lower() for e in allowed_emails}
    text = TOKEN_RE.sub("[REDACTED TOKEN]", text)
    text = SECRET_ASSIGN_RE.sub(lambda m: f"{m.group(1)}=[REDACTED]", text)
    return EMAIL_RE.sub(lambda m: m.group(0) if m.group(0).lower() in allowed else mask_email(m.group(0)), text)
