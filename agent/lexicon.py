"""The router's vocabulary: everyday wordings of the five domains, and the plain-word names of the
platform's tables, columns, jobs, warehouses and workspaces.

:func:`canonical` rewrites synonyms ("sign-on", "blank values", "takes forever", "blew up") into
the terms the intent rules already match ("login", "nulls", "slow", "crash"), in one regex pass;
:func:`aliases` finds entities named in words ("the customers table", "customer ids", "the orders
sync job"). A lexicon rather than an embedding model: offline, no model download, microseconds
per question (``benchmarks/agent_latency.py`` prints the figure), and every decision is readable.
"""

from __future__ import annotations

import re
from typing import Any

from agent.data import anomalies as A


def _words(name: str) -> str:
    """A regex for a name written in words: separators as spaces or hyphens, plurals optional."""
    parts = [p for p in re.split(r"[._-]", name) if p]
    return r"[\s_-]+".join(rf"{re.escape(p.rstrip('s'))}s?" for p in parts)


def _job_words(job: str) -> str:
    # the schedule word is optional: "the orders sync job" is hourly_orders_sync
    head, _, rest = job.partition("_")
    core = rest if head in ("hourly", "nightly", "daily") else job
    return rf"(?:{head}[\s_-]+)?{_words(core)}" if core != job else _words(job)


_TABLE_NOUN = r"[\s-]+(?:table|data(?:set)?)s?"  # "the customers table", "the orders data"
_TABLE_WORDS = "(?:" + "|".join(_words(t.rsplit(".", 1)[1]) for t in A.TABLES) + ")"


# canonical term -> wordings; earlier entries win where two could start at the same word, so the
# specific phrases ("break into", "the customers data is complete") come before the bare words.
_SYNONYMS: list[tuple[str, str]] = [
    (
        "quality",
        rf"(?:{_TABLE_WORDS}[\s-]+)?(?:data|tables?|datasets?|columns?|records?|rows?) "
        r"(?:is |are |look |looks )?(?:complete|accurate|correct|consistent|valid|trustworthy)|"
        r"completeness|integrity|accuracy|corrupt(?:ed|ion)?|duplicat(?:e|es|ed|ion)|dupes|bad data|"
        r"garbage data|data issues?",
    ),
    # names written in words become neutral tokens, so "invoices table" is not about cost and
    # "the inventory refresh job" is not about freshness
    ("dataset", rf"{_TABLE_WORDS}{_TABLE_NOUN}"),
    ("job", "|".join(_job_words(j) for j in A.JOBS)),
    # security
    (
        "attack",
        r"break(?:s|ing)?[- ]?in(?:to|s)?|broke[- ]?in(?:to)?|hack(?:s|ed|er|ers|ing)?|intruders?|"
        r"account takeovers?|takeovers?|impersonat\w*|password spray(?:ing)?|spray(?:ed|ing)? passwords?|"
        r"guess(?:ed|es|ing)? (?:the |our |their |at )?passwords?|hammer(?:s|ed|ing)?|exfiltrat\w*|phishing",
    ),
    ("suspicious", r"sketchy|shady|fishy|malicious|dodgy|odd logins?|strange logins?|weird logins?"),
    ("login", r"sign[- ]?ons?|log[- ]?ons?|logging (?:in|on)|signing (?:in|on)|log-?in page|sign-?in page"),
    ("audit", r"audit trail|access logs?|who accessed"),
    (
        "token exposure",
        r"leak(?:s|ed|ing)? (?:of )?(?:an? |the |any )?(?:credentials?|secrets?|keys?|passwords?)|"
        r"(?:credentials?|secrets?|keys?) (?:leak(?:s|ed)?|exposed|exposure)",
    ),
    # cost
    (
        "cost",
        r"invoices?|invoiced|fees?|pay(?:s|ing|ments?)?|paid|expensive|pricey|pricier|cheap(?:er|est)?|"
        r"overspend\w*|over budget|expenditures?|outlays?|(?:compute |cloud )?credits|cash|savings?|"
        r"financ(?:e|es|ial)|burn(?:s|ed|t|ing)? (?:through )?(?:\w+ )?(?:money|cash|budget|dollars|credits)|"
        r"burn rate|pay-as-you-go|consumption",
    ),
    # performance
    (
        "slow",
        r"lag(?:s|ged|ging|gy)?|crawl(?:s|ed|ing)?|tak(?:e|es|ing|en) (?:forever|ages|too long|so long|"
        r"a long time)|took (?:forever|ages|too long|so long)|unresponsive|bogged down|overload(?:ed)?|"
        r"congest(?:ed|ion)|bottleneck(?:s|ed)?|hang(?:s|ing)?|(?:not )?keep(?:s|ing)? up|"
        r"snappy|laggy|faster|quicker",
    ),
    ("queue", r"wait(?:s|ed|ing)?|piling up|pile[sd]? up|backlog(?:s|ged)?|stuck (?:in line|waiting)"),
    (
        "performance",
        r"capacity|throughput|concurrency|(?:sql )?endpoints?|warehouses?|dashboards?|load times?|"
        r"loading times?|compute resources",
    ),
    # reliability
    (
        "crash",
        r"blew up|blow(?:s|n|ing)? up|went down|go(?:es)? down|abort(?:s|ed|ing)?|glitch(?:es|y)?|"
        r"hiccups?|broken|break(?:s|ing)?|died|dies|killed|timed?[- ]?outs?",
    ),
    (
        "reliability",
        r"(?:un)?dependab\w*|(?:un)?stable|stability|instability|uptime|robust(?:ness)?|"
        r"(?:un)?reliable|trustworth\w*",
    ),
    (
        "failed",
        r"unsuccessful|errored(?: out)?|didn't (?:run|finish|complete)|did not (?:run|finish|complete)|never "
        r"(?:ran|finished)",
    ),
    ("succeeded", r"complet(?:e|ed|es|ion)|finish(?:ed|es)?|ran (?:ok|fine|successfully|through)"),
    # data quality
    ("nulls", r"empty|blank|missing|unpopulated|not populated|nan values?|no values?|gaps?|holes?"),
    (
        "stale",
        r"outdated|out-dated|(?:late|delayed) (?:data|tables?|datasets?|loads?)|"
        r"(?:not|n't|never) (?:been )?(?:refreshed|reloaded|loaded|updated|ingested)|behind schedule|"
        r"(?:missed|breach(?:ed|es)?|miss(?:es)?) (?:their |its |the )?(?:slas?|freshness targets?)",
    ),
    ("fresh", r"(?:re)?loaded|refresh(?:ed|es|ing)?|ingest(?:ed|ion)?|landed|updated|recency"),
    # summaries
    (
        "summary",
        r"rundown|run-down|recap|round-?up|catch me up|going on|sideways|went wrong|state of (?:the )?"
        r"(?:platform|things|union)|how are things|report card|big picture|top issues|wrap-?up",
    ),
]
_GROUPS = {f"c{i}": canon for i, (canon, _) in enumerate(_SYNONYMS)}
_CANON_RE = re.compile(
    "|".join(rf"(?P<c{i}>\b(?:{pattern})\b)" for i, (_, pattern) in enumerate(_SYNONYMS)), re.IGNORECASE
)


def canonical(text: str) -> str:
    """``text`` with every synonym replaced by its canonical term (the original otherwise kept)."""
    return _CANON_RE.sub(lambda m: _GROUPS[m.lastgroup or ""], text)


# --- entities named in words, and what the question asks for ---------------------------------
_TABLE_ALIASES = [(t, re.compile(rf"\b{_words(t.rsplit('.', 1)[1])}{_TABLE_NOUN}\b", re.I)) for t in A.TABLES]
_JOB_ALIASES = [(j, re.compile(rf"\b{_job_words(j)}\b(?!{_TABLE_NOUN})", re.I)) for j in A.JOBS]
_WAREHOUSE_ALIASES = [(w, re.compile(rf"\b{_words(w)}\b", re.I)) for w in A.WAREHOUSES]
_WORKSPACE_ALIASES = [(w, re.compile(rf"\b{_words(w)}[\s-]+workspace\b", re.I)) for w in A.WORKSPACES]
_COLUMN_RE = re.compile(r"\b(customer|order|product)s?[\s-]+ids?\b", re.I)
# what a question is about when it has no domain word: "how are the pipelines doing?"
_OBJECTS = {
    "cost": re.compile(r"\bworkspaces?\b", re.I),
    "reliability": re.compile(r"\b(jobs?|pipelines?|workflows?|dags?|etl)\b", re.I),
    "quality": re.compile(r"\b(tables?|datasets?|columns?)\b", re.I),
}

_RANK_WORKSPACE_RE = re.compile(
    r"\b(which|what|top|each|every|per|by)\s+(\w+\s+)?workspaces?\b|\bworkspaces?\b[^.?!]{0,40}\b(most|highest|"
    r"biggest|largest|top|rank\w*)\b",
    re.I,
)
_TREND_RE = re.compile(
    r"\bgetting (worse|better|more expensive|cheaper|slower)\b|\btrend(s|ing)?\b|\b(going|creeping|trending) up\b|"
    r"\b(increasing|rising|growing|climbing)\b|\bweek[- ]over[- ]week\b|\bcompared (to|with) (last|the "
    r"previous) week\b",
    re.I,
)


def aliases(text: str) -> dict[str, str]:
    """Entities the text names in words: ``{"table"|"job"|"warehouse"|"workspace"|"column": name}``."""
    found: dict[str, str] = {}
    for kind, table in (
        ("table", _TABLE_ALIASES),
        ("job", _JOB_ALIASES),
        ("warehouse", _WAREHOUSE_ALIASES),
        ("workspace", _WORKSPACE_ALIASES),
    ):
        name = next((name for name, rx in table if rx.search(text)), None)
        if name:
            found[kind] = name
    m = _COLUMN_RE.search(text)
    if m:
        found["column"] = f"{m.group(1).lower()}_id"
    return found


def object_domains(text: str) -> list[str]:
    """Domains of the things a question names (jobs, tables, workspaces) when it names no concern."""
    return [d for d in A.DOMAINS if d in _OBJECTS and _OBJECTS[d].search(text)]


# "which job costs the most", "top 3 slowest warehouses", "the most expensive jobs": a ranking of jobs
# or warehouses (workspaces have their own, older rule above); what it is ranked by comes from the words
_RANK_NOUNS = {"job": r"jobs?|pipelines?|workflows?", "warehouse": r"(?:sql[\s-]+)?warehouses?"}
_SUPERLATIVE = (
    r"most|highest|biggest|largest|greatest|heaviest|costliest|priciest|slowest|worst|least reliable|"
    r"flakiest|top|rank(?:ed|ing|s)?"
)
_NUMBER = r"\d{1,2}|two|three|four|five|ten"
_WORDNUM = {"two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}
_RANK_RES = {
    noun: re.compile(
        rf"\b(?:which|what)\s+(?:\w+\s+){{0,2}}?(?:{words})\b[^.?!]{{0,50}}?\b(?:{_SUPERLATIVE})\b|"
        rf"\btop\s+(?:(?:{_NUMBER})\s+)?(?:\w+\s+){{0,2}}?(?:{words})\b|"
        rf"\b(?:{_SUPERLATIVE})\s+(?:\w+\s+)?(?:{words})\b|"
        rf"\brank\w*\s+(?:the\s+|our\s+|all\s+)?(?:{words})\b",
        re.I,
    )
    for noun, words in _RANK_NOUNS.items()
}
_TOP_N_RE = re.compile(rf"\btop\s+({_NUMBER})\b|\b({_NUMBER})\s+(?:most|costliest|priciest|slowest|worst)\b", re.I)
_RANK_METRICS = [  # first match wins: "slowest" is latency even in a question about a costly warehouse
    ("failures", re.compile(r"\bfail\w*|\berrors?\b|\bflak\w*|\breliab\w*|\bcrash\w*", re.I)),
    ("latency", re.compile(r"\bslow\w*|\blatenc\w*|\bp9[059]\b|\bqueu\w*|\bsluggish", re.I)),
    ("cost", re.compile(r"\bcost\w*|\bspend\w*|\bspent\b|\bexpensive|\bpric\w*|\bdbus?\b|\bbill\w*", re.I)),
]
_PERMISSIONS_RE = re.compile(
    r"\badmin\w*|\bprivilege\w*|\bpermissions?\b|\bentitlements?\b|\bsuperusers?\b|\bacls?\b|"
    r"\baccess (?:rights|controls?|levels?)\b|\b(?:grants?|granted) (?:access|rights|roles?)\b|"
    r"\b(?:who|which users?) (?:can|could|may) (?:access|read|write|manage)\b",
    re.I,
)


def _rank(text: str) -> tuple[str | None, str | None, int | None]:
    """(what is ranked, by what, how many) for a job or warehouse ranking; Nones otherwise."""
    noun = next((n for n, rx in _RANK_RES.items() if rx.search(text)), None)
    metric = next((m for m, rx in _RANK_METRICS if rx.search(text)), None) if noun else None
    if not metric:
        return None, None, None
    m = _TOP_N_RE.search(text)
    top = (m.group(1) or m.group(2)).lower() if m else None
    return noun, metric, (_WORDNUM.get(top) or int(top)) if top else None


def question_shape(text: str) -> dict[str, Any]:
    """What the question asks for beyond its domain: a ranking (of workspaces, jobs or warehouses, by
    cost, failures or latency, the top N), a trend, or who holds which permissions."""
    noun, metric, top = _rank(text)
    if _RANK_WORKSPACE_RE.search(text):  # the cost worker's own ranking, whatever the wording
        noun, metric = "workspace", None
    return {
        "rank_by": noun,
        "rank_metric": metric,
        "top_n": top,
        "trend": bool(_TREND_RE.search(text)),
        "permissions": bool(_PERMISSIONS_RE.search(text)),
    }
