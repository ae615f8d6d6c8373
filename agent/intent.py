"""Deterministic intent classification: domains, time window, entities, follow-ups, guards."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from agent import lexicon, rankings, safety
from agent.data import anomalies as A

DOMAINS = list(A.DOMAINS)
MAX_QUESTION_CHARS = 20_000

_KW = {
    "cost": r"\bcosts?\b|\bcostly|\bspend|\bspent|\bbill(s|ing|ed)?\b|\bdbus?\b|\bexpens|\bprice|\bpricing|\bbudget|"
    r"\bmoney|\bdollars?\b|\busd\b|\$|\bcharge|\binvoice total|\bcostos?\b|\bcoste\b|\bkosten\b|\bcoûts?\b|\bgastos?\b",
    "security": r"\bsecurity|\blog-?ins?\b|\blog(ged)? in\b|\blogged "
    r"in|\bsign-?ins?\b|\blogon|\bauthenticat|\bsuspicious|\bbrute|"
    r"\battack|\bintrusion|\btokens?\b|\baudit|\b401\b|\bip addresse?s?\b|\bbreach|\bcompromis|\bunauthori[sz]ed|"
    r"\bsicherheit|\bseguridad|\bsécurité|\binicios? de sesión",
    "performance": r"\bperformance|\bslow|\blatenc|\bquery (time|duration|speed)|\bqueries\b|\bp9[059]\b|\bqueu|"
    r"\bresponse time|\bsluggish|\bspeed|\bduration of quer|\brendimiento|\bleistung|\blent(e|s)?\b|\blentas?\b",
    "reliability": r"\breliab|\bfail(ed|ing|ure|ures|s)?\b|\berrors?\b|\bexceptions?\b|\bcrash|\bbroke|"
    r"\bsucce(ss|ed|eded|eds)|\bjob runs?\b|\bretr(y|ies)|\boutage|\bdowntime|\bflaky|\bfiabilidad|\bfall(os|aron|ó)\b",
    "quality": r"\bquality|\bfresh|\bstale|\bnulls?\b|\bmissing (values|data)|\bup[- ]to[- ]date|\bout[- ]of[- ]date|"
    r"\blast updated|\bnot (been )?updated|\bincomplete|\bcalidad|\bdatenqualit",
}
_KW_RE = {d: re.compile(p, re.IGNORECASE) for d, p in _KW.items()}
_LOGIN_FAIL_RE = re.compile(
    r"\bfail(ed|ing|ures?|s)?\s+(log-?ins?|sign-?ins?|logons?|auth\w*|attempts?|password)|"
    r"\b(log-?in|sign-?in|logon|auth\w*)\s+(fail\w*|errors?|attempts?)|"
    r"\bfail\w*\s+to\s+(log|sign)\s*-?\s*(in|on)\b|\b(log|sign)\s+in\s+attempts?",
    re.IGNORECASE,
)
_SUMMARY_RE = re.compile(
    r"\bhealth\b|\bhealthy\b|\bsummar|\boverview|\beverything\b|\ball (five )?domains|\banything "
    r"(unusual|wrong|odd|i should)|"
    r"\bwhat('s| is| was) wrong|\bany (issues|problems|anomal|incidents)|\banomal(y|ies)\b|\bstatus report|\bdigest|"
    r"\bhow('s| is) the platform|\bwhat happened|\bbriefing|\bissues\b|\bproblems\b|\bresumen|\bzusammenfassung",
    re.IGNORECASE,
)
_GREETING_RE = re.compile(r"^\s*(hi|hello|hey|help|what can you do|who are you)\b", re.IGNORECASE)
_FOLLOW_RE = re.compile(
    r"^\s*(and|what about|how about|and what about|same for|what of|also|then|ok(ay)?,? (and|what about)|y\b|und\b)",
    re.IGNORECASE,
)
_SHIFT_BACK_RE = re.compile(
    r"\b(the )?(day|date) before\b|\bprevious day\b|\bday earlier\b|\bthe day prior\b", re.IGNORECASE
)
_SHIFT_FWD_RE = re.compile(r"\b(the )?(day|date) after\b|\bnext day\b|\bfollowing day\b|\bday later\b", re.IGNORECASE)

ISO_RE = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
IP_RE = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
BACKTICK_RE = re.compile(r"`([^`\s]{1,80})`")
SNAKE_RE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_MONTH_DAY_RE = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(st|nd|rd|th)?\b|"
    r"\b(\d{1,2})(st|nd|rd|th)?\s+(of\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE,
)
_DAYS_AGO_RE = re.compile(r"\b(\d{1,2}|two|three|four|five|six|seven)\s+days?\s+ago\b", re.IGNORECASE)
_WORDNUM = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
KNOWN_COLUMNS = ["customer_id", "order_id", "product_id", "email", "country", "amount"]


def _d(x: date) -> str:
    return x.isoformat()


def parse_time(text: str, ref: date) -> dict[str, Any]:
    """-> {"date": iso|None, "start": iso|None, "end": iso|None, "label": str|None}"""
    t = text.lower()
    m = ISO_RE.search(t)
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            return {"date": _d(d), "start": None, "end": None, "label": None}
        except ValueError:
            pass
    if re.search(r"\bday before yesterday\b|\bvorgestern\b|\banteayer\b", t):
        return {"date": _d(ref - timedelta(days=2)), "start": None, "end": None, "label": "the day before yesterday"}
    if re.search(r"\byesterday\b|\bayer\b|\bgestern\b|\bhier\b", t):
        return {"date": _d(ref - timedelta(days=1)), "start": None, "end": None, "label": "yesterday"}
    if re.search(r"\btoday\b|\bthis morning\b|\bhoy\b|\bheute\b", t):
        return {"date": _d(ref), "start": None, "end": None, "label": "today"}
    m = _DAYS_AGO_RE.search(t)
    if m:
        n = _WORDNUM.get(m.group(1).lower()) or int(m.group(1))
        return {"date": _d(ref - timedelta(days=n)), "start": None, "end": None, "label": None}
    m = _MONTH_DAY_RE.search(t)
    if m:
        mon = (m.group(1) or m.group(7) or "")[:3].lower()
        day = int(m.group(2) or m.group(4))
        try:
            return {"date": _d(date(ref.year, _MONTHS[mon], day)), "start": None, "end": None, "label": None}
        except (KeyError, ValueError):
            pass
    if re.search(r"\b(last|past|this|previous)\s+(week|7 days|seven days)\b|\bsemana pasada\b|\bletzte woche\b", t):
        return {"date": None, "start": _d(ref - timedelta(days=6)), "end": _d(ref), "label": "the last 7 days"}
    if re.search(r"\b(last|past|this|previous)\s+(month|30 days|31 days|thirty days)\b", t):
        return {"date": None, "start": _d(A.START_DATE), "end": _d(ref), "label": "the last 31 days"}
    return {"date": None, "start": None, "end": None, "label": None}


def extract_entities(text: str) -> dict[str, Any]:
    low = text.lower()
    ent: dict[str, Any] = {}
    for kind, names in (("job", A.JOBS), ("warehouse", A.WAREHOUSES), ("workspace", A.WORKSPACES), ("table", A.TABLES)):
        found = next((name for name in names if name in low), None)
        if found:
            ent[kind] = found
    for col in KNOWN_COLUMNS:
        if re.search(rf"\b{col}\b", low) and col != "email":
            ent["column"] = col
            break
    for kind, name in lexicon.aliases(text).items():
        ent.setdefault(kind, name)
    emails = sorted(safety.emails_in([text]))
    if emails:
        ent["email"] = emails[0]
    m = IP_RE.search(text)
    if m:
        ent["ip"] = m.group(0)
    if "job" not in ent:
        # an unknown snake_case / back-quoted name is taken as a job name (answered as "not found")
        cands = [
            c
            for c in BACKTICK_RE.findall(text) + SNAKE_RE.findall(low)
            if "_" in c and c not in KNOWN_COLUMNS and "." not in c and "@" not in c
        ]
        if cands:
            ent["job"] = cands[0]
            ent["job_unknown"] = cands[0] not in A.JOBS
    return ent


def identifiers(text: str) -> list[str]:
    """Names the answer must echo: back-quoted names, snake_case names, emails, IPs, ISO dates."""
    out: list[str] = []
    for x in BACKTICK_RE.findall(text) + SNAKE_RE.findall(text) + safety.EMAIL_RE.findall(text) + IP_RE.findall(text):
        x = x.strip("`")
        if x and x not in out:
            out.append(x)
    for m in ISO_RE.finditer(text):
        if m.group(0) not in out:
            out.append(m.group(0))
    return out


def keyword_domains(text: str) -> list[str]:
    """Domains the words of ``text`` name; pass it through :func:`agent.lexicon.canonical` first
    so synonyms count."""
    t = text
    found = []
    if _KW_RE["security"].search(t) or _LOGIN_FAIL_RE.search(t):
        found.append("security")
    t_rel = _LOGIN_FAIL_RE.sub(" ", t)
    for d in DOMAINS:
        if d == "security":
            continue
        if _KW_RE[d].search(t_rel if d == "reliability" else t):
            found.append(d)
    return [d for d in DOMAINS if d in found]


def entity_domains(ent: dict[str, Any]) -> list[str]:
    out = []
    if ent.get("email") or ent.get("ip"):
        out.append("security")
    if ent.get("warehouse"):
        out.append("performance")
    if ent.get("job"):
        out.append("reliability")
    if ent.get("table") or ent.get("column"):
        out.append("quality")
    if ent.get("workspace") and not out:
        out.append("cost")
    return [d for d in DOMAINS if d in out]


def classify(
    question: str, ref: date, previous: dict[str, Any] | None = None, allowed_emails: list[str] | None = None
) -> dict[str, Any]:
    """Classify one user question (with the previous turn's intent, for follow-ups)."""
    q = question or ""
    base = {
        "question": q[:MAX_QUESTION_CHARS],
        "domains": [],
        "date": None,
        "start": None,
        "end": None,
        "label": None,
        "entities": {},
        "follow_up": False,
        "identifiers": [],
        "allowed_emails": sorted(set(allowed_emails or [])),
    }
    if not q.strip():
        return {**base, "kind": "empty"}
    if len(q) > MAX_QUESTION_CHARS:
        return {**base, "kind": "too_long", "length": len(q)}
    if safety.is_injection_or_secret_request(q):
        return {**base, "kind": "refuse"}
    if safety.is_sql_write(q):
        return {**base, "kind": "sql_write"}
    time_ = parse_time(q, ref)
    ent = extract_entities(q)
    words = lexicon.canonical(q)
    domains = keyword_domains(words)
    summary = bool(_SUMMARY_RE.search(words)) and not domains and not entity_domains(ent)
    intent = {**base, **time_, **lexicon.question_shape(q), "entities": ent, "identifiers": identifiers(q)}
    shift = -1 if _SHIFT_BACK_RE.search(q) else (1 if _SHIFT_FWD_RE.search(q) else 0)
    is_follow = (
        previous is not None
        and previous.get("kind") == "answer"
        and (shift != 0 or (not domains and not summary and (bool(_FOLLOW_RE.search(q)) or len(q.split()) <= 8)))
    )
    if is_follow:
        prev_focus = previous.get("focus_date") or previous.get("date")
        if shift and prev_focus:
            d = date.fromisoformat(prev_focus) + timedelta(days=shift)
            intent.update({"date": _d(d), "start": None, "end": None, "label": None})
        elif not (time_["date"] or time_["start"]):
            for k in ("date", "start", "end", "label"):
                intent[k] = previous.get(k)
        merged = dict(previous.get("entities") or {})
        merged.update(ent)
        intent["entities"] = merged
        if not intent["rank_by"]:  # "and last week?" after a ranking asks for the same ranking
            intent.update({k: previous.get(k) for k in ("rank_by", "rank_metric", "top_n")})
        intent["domains"] = domains or list(previous.get("domains") or []) or entity_domains(ent)
        intent["follow_up"] = True
        intent["kind"] = "answer" if intent["domains"] else "out_of_scope"
        return intent
    if summary:
        domains = list(DOMAINS)
    elif domains and (ent.get("email") or ent.get("ip")) and "security" not in domains:
        domains = [d for d in DOMAINS if d in domains or d == "security"]
    ranked = rankings.domain_of(intent)
    if ranked:  # "which warehouse costs the most" is a cost ranking, whatever else its words name
        domains = [ranked]
    elif intent["permissions"] and not domains:  # answered from the audit log, the nearest data there is
        domains = ["security"]
    if not domains:
        domains = entity_domains(ent) or lexicon.object_domains(q)
    if not domains:
        kind = "greeting" if _GREETING_RE.search(q) else "out_of_scope"
        # time and entities are kept so an LLM router may still route the question
        return {**intent, "kind": kind, "domains": []}
    intent["domains"] = domains
    intent["summary"] = summary
    intent["kind"] = "answer"
    return intent


def previous_intent(history: list[dict[str, Any]], ref: date, allowed: list[str]) -> dict[str, Any] | None:
    """The intent of the last answered question in ``history``, with the day its answer focused on."""
    prev = None
    for i, m in enumerate(history):
        if m["role"] != "user":
            continue
        it = classify(m["content"], ref, prev, allowed)
        if it.get("kind") != "answer":
            continue
        focus = it.get("date")
        if not focus:  # the answer that followed says which day it was about
            for nxt in history[i + 1 :]:
                if nxt["role"] == "user":
                    break
                if nxt["role"] == "assistant":
                    m2 = ISO_RE.search(nxt["content"] or "")
                    focus = m2.group(0) if m2 else None
                    break
        it["focus_date"] = focus
        prev = it
    return prev
