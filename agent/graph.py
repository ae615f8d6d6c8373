"""The LangGraph orchestrator: classify intent -> ``Send`` fan-out to domain workers -> synthesize.

``HealthMonitor`` is the framework-neutral engine (no MLflow): ``run`` returns the answer with
its sources, domains and confidence; ``stream`` yields the answer in pieces as it is written: each
domain's paragraph as soon as its worker has finished, then the closing lines once the answer is
synthesized.
``agent.chat_agent.HealthMonitorAgent`` wraps it as an MLflow ChatAgent.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from agent import intent as intent_mod
from agent import memory, safety
from agent.config import AgentConfig, load_config
from agent.data import anomalies as A
from agent.data.store import get_store
from agent.llm import LLMError, client_from_config
from agent.replies import direct_reply
from agent.streaming import FindingStream
from agent.workers import LABELS, run_worker

DOMAINS = list(A.DOMAINS)


def _results(old: list | None, new: list | None) -> list:
    """Reducer for worker results: ``None`` resets (at the start of each turn), lists append."""
    if new is None:
        return []
    return (old or []) + list(new)


class State(TypedDict, total=False):
    messages: list[dict[str, Any]]
    user_id: str | None
    prefs: dict[str, str]
    intent: dict[str, Any]
    results: Annotated[list, _results]
    answer: str
    sources: list[dict[str, str]]
    domains: list[str]
    confidence: float
    last_intent: dict[str, Any] | None
    llm_used: bool


class WorkerInput(TypedDict):
    domain: str
    intent: dict[str, Any]


_ISO = re.compile(r"\b20\d\d-\d\d-\d\d\b")


class HealthMonitor:
    """The agent engine. Thread-safe: one instance serves concurrent calls."""

    def __init__(self, config: str | dict | AgentConfig | None = None, prefs_path: str | None = None):
        self.cfg = load_config(config)
        self.ref = self.cfg.reference_date
        self.llm = client_from_config(self.cfg.section("llm"))
        mem = self.cfg.section("memory")
        self.prefs = memory.PreferenceStore(prefs_path or mem.get("preferences_db") or None)
        self.checkpointer = memory.make_checkpointer(mem.get("checkpointer", "memory"))
        self.graph = self._build(self.checkpointer)
        self.stateless_graph = self._build(None) if self.checkpointer is not None else self.graph
        self._lock = threading.Lock()
        # opened now, or the first question's workers would all wait for the one opening it
        get_store()

    # --- graph -------------------------------------------------------------------------------
    def _build(self, checkpointer):
        g = StateGraph(State)
        g.add_node("classify", self._classify)
        for d in DOMAINS:
            g.add_node(d, self._worker_node)
        g.add_node("synthesize", self._synthesize)
        g.add_edge(START, "classify")
        g.add_conditional_edges("classify", self._route, [*DOMAINS, "synthesize"])
        for d in DOMAINS:
            g.add_edge(d, "synthesize")
        g.add_edge("synthesize", END)
        return g.compile(checkpointer=checkpointer, name=f"health_monitor_{self.cfg.name}")

    def _classify(self, state: State) -> dict[str, Any]:
        msgs = state.get("messages") or []
        reset = {"results": None, "llm_used": False}
        if not msgs:
            return {**reset, "intent": {"kind": "empty", "domains": [], "allowed_emails": []}}
        last = msgs[-1]
        if last["role"] != "user":
            return {**reset, "intent": {"kind": "not_user", "role": last["role"], "domains": [], "allowed_emails": []}}
        user_texts = [m["content"] for m in msgs if m["role"] == "user"]
        allowed = sorted(safety.emails_in(user_texts))
        history = [m for m in msgs[:-1] if m["role"] in ("user", "assistant")]
        prev = (
            intent_mod.previous_intent(history, self.ref, allowed)
            if any(m["role"] == "user" for m in history)
            else None
        )
        if prev is None:
            prev = state.get("last_intent")
        question = last["content"] or ""
        prefs = dict(state.get("prefs") or {})
        to_save = memory.parse_preference_statement(question) if state.get("user_id") else {}
        if to_save:
            for k, v in to_save.items():
                self.prefs.set(state["user_id"], k, v)
            return {
                **reset,
                "intent": {"kind": "prefs_saved", "saved": to_save, "domains": [], "allowed_emails": allowed},
                "prefs": {**prefs, **to_save},
            }
        it = intent_mod.classify(question, self.ref, prev, allowed)
        if (
            it["kind"] in ("answer", "out_of_scope")
            and self.llm is not None
            and not it.get("follow_up")
            and self.cfg.section("routing").get("mode") == "llm"
        ):
            llm_domains = self._llm_route(question)
            if llm_domains:
                it["domains"], it["kind"] = llm_domains, "answer"
        if it["kind"] == "answer":
            max_d = int(self.cfg.section("routing").get("max_domains") or 5)
            it["domains"] = it["domains"][:max_d]
            if prefs.get("default_workspace") and "workspace" not in it["entities"]:
                it["entities"] = {**it["entities"], "workspace": prefs["default_workspace"]}
            it["prefs"] = prefs
        return {**reset, "intent": it}

    def _llm_route(self, question: str) -> list[str] | None:
        prompt = self.cfg.section("prompts").get("router") or (
            "Classify the question into zero or more of: cost, security, performance, reliability, quality. "
            "Reply with only a JSON list."
        )
        try:
            reply = self.llm.chat([{"role": "system", "content": prompt}, {"role": "user", "content": question[:4000]}])
            m = re.search(r"\[.*?\]", reply, re.S)
            got = json.loads(m.group(0)) if m else None
        except (LLMError, ValueError, json.JSONDecodeError):
            return None
        if not isinstance(got, list) or not got or not all(isinstance(x, str) and x in DOMAINS for x in got):
            return None
        return [d for d in DOMAINS if d in got]

    def _route(self, state: State):
        it = state["intent"]
        if it.get("kind") != "answer" or not it.get("domains"):
            return "synthesize"
        return [Send(d, {"domain": d, "intent": it}) for d in it["domains"]]

    def _worker_node(self, payload: WorkerInput) -> dict[str, Any]:
        return {"results": [run_worker(payload["domain"], payload["intent"], self.ref)]}

    # --- synthesis ---------------------------------------------------------------------------
    def _paragraph(self, r: dict[str, Any]) -> str:
        """One worker's paragraph of the answer."""
        ans = self.cfg.section("answer")
        n = int(ans.get("max_findings_per_domain") or 3)
        body = " ".join(r["sentences"][: n + 1]) if ans.get("include_figures", True) else r["vague"]
        return f"{LABELS[r['domain']]}: {body}"

    def _phrases(self) -> bool:
        """Whether an LLM rewrites the findings (so no paragraph can be streamed before synthesis)."""
        return self.llm is not None and bool(self.cfg.section("llm").get("phrase", True))

    def _compose(self, it: dict[str, Any], results: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
        figures = bool(self.cfg.section("answer").get("include_figures", True))
        order = {d: i for i, d in enumerate(DOMAINS)}
        results = sorted(results, key=lambda r: order[r["domain"]])
        paras, sources = [], []
        for r in results:
            paras.append(self._paragraph(r))
            for s in r["sources"]:
                if s not in sources:
                    sources.append(s)
        text = "\n".join(paras)
        if figures:
            low = text.lower()
            missing = [x for x in it.get("identifiers", []) if x.lower() not in low]
            if missing:
                text += f"\nNothing in the results above mentions {', '.join(missing)}."
        return text, sources

    def _phrase_with_llm(self, question: str, findings: str) -> str | None:
        llm_cfg = self.cfg.section("llm")
        if not self._phrases():
            return None
        prompt = self.cfg.section("prompts").get("synthesis") or "Rewrite the findings as a short answer."
        system = self.cfg.section("prompts").get("system") or ""
        try:
            out = self.llm.chat(
                [
                    {"role": "system", "content": f"{system}\n{prompt}".strip()},
                    {"role": "user", "content": f"Question: {question[:4000]}\n\nFindings:\n{findings}"},
                ]
            ).strip()
        except LLMError:
            return None
        if not out:
            return None
        if llm_cfg.get("verify_facts", True):
            must = set(_ISO.findall(findings))
            for name in A.JOBS + A.WAREHOUSES + A.WORKSPACES + A.TABLES + ["ConcurrentAppendException"]:
                if name in findings:
                    must.add(name)
            if any(x not in out for x in must):
                return None
        out = re.sub(r"\n?\s*Sources?:.*$", "", out, flags=re.I | re.S).strip()
        return out or None

    def _synthesize(self, state: State) -> dict[str, Any]:
        it = state["intent"]
        allowed = it.get("allowed_emails") or []
        llm_used = False
        if it.get("kind") != "answer":
            text, sources, domains = direct_reply(it), [], []
            confidence = 0.0 if it.get("kind") in ("empty", "not_user", "too_long") else 0.95
        else:
            results = state.get("results") or []
            body, sources = self._compose(it, results)
            phrased = self._phrase_with_llm(it.get("question", ""), body)
            if phrased:
                body, llm_used = phrased, True
            tables = []
            for s in sources:
                if s["table"] not in tables:
                    tables.append(s["table"])
            text = body + ("\nSources: " + ", ".join(tables) if tables else "")
            domains = [r["domain"] for r in sorted(results, key=lambda r: DOMAINS.index(r["domain"]))]
            confidence = round(sum(r["confidence"] for r in results) / len(results), 2) if results else 0.0
        text = safety.redact(text, allowed)
        out: dict[str, Any] = {
            "answer": text,
            "sources": sources,
            "domains": domains,
            "confidence": confidence,
            "llm_used": llm_used,
        }
        if it.get("kind") == "answer":
            focus = it.get("date")
            if not focus:
                for r in state.get("results") or []:
                    if r.get("focus_date"):
                        focus = r["focus_date"]
                        break
            out["last_intent"] = {**{k: v for k, v in it.items() if k != "prefs"}, "focus_date": focus}
        return out

    # --- public API --------------------------------------------------------------------------
    @staticmethod
    def normalize_messages(messages: Any) -> list[dict[str, Any]]:
        """Accept dicts or objects with ``role``/``content``; unknown roles are kept (and ignored
        for history); ``None`` content becomes ``""``."""
        out = []
        for m in messages or []:
            if isinstance(m, dict):
                role, content = m.get("role"), m.get("content")
            else:
                role, content = getattr(m, "role", None), getattr(m, "content", None)
            role = str(role or "").strip().lower()
            if content is not None and not isinstance(content, str):
                content = json.dumps(content) if not isinstance(content, (int, float)) else str(content)
            out.append({"role": role, "content": content or ""})
        return out

    def _inputs(self, messages, conversation_id, user_id):
        msgs = self.normalize_messages(messages)
        prefs = self.prefs.get(user_id) if user_id else {}
        state = {"messages": msgs, "user_id": user_id, "prefs": prefs}
        if conversation_id and self.checkpointer is not None:
            return self.graph, state, {"configurable": {"thread_id": str(conversation_id)}}
        return self.stateless_graph, state, {"configurable": {"thread_id": uuid.uuid4().hex}}

    @staticmethod
    def _result(final: dict[str, Any]) -> dict[str, Any]:
        return {
            "content": final.get("answer", ""),
            "sources": final.get("sources") or [],
            "domains": final.get("domains") or [],
            "confidence": float(final.get("confidence") or 0.0),
            "llm_used": bool(final.get("llm_used")),
        }

    def run(self, messages, conversation_id: str | None = None, user_id: str | None = None) -> dict[str, Any]:
        graph, state, cfg = self._inputs(messages, conversation_id, user_id)
        return self._result(graph.invoke(state, cfg))

    def stream(
        self, messages, conversation_id: str | None = None, user_id: str | None = None
    ) -> Iterator[tuple[str, Any]]:
        """Yield ``("delta", text)`` pieces as the answer is written, then ``("final", result)``.

        LangGraph reports each node's update as the node finishes, so each domain's finding is sent
        as soon as its worker has finished, while the others are still querying: the pieces hold
        ``run``'s paragraphs in the order the workers finished, then its closing lines. An answer an
        LLM rewrites, or one no worker contributes to, comes in one piece."""
        graph, state, cfg = self._inputs(messages, conversation_id, user_id)
        findings: FindingStream | None = None
        final: dict[str, Any] = {}
        for update in graph.stream(state, cfg, stream_mode="updates"):
            for node, values in update.items():
                if node == "classify":
                    it = values["intent"]
                    if it.get("kind") == "answer" and not self._phrases():
                        findings = FindingStream(self._paragraph, it.get("allowed_emails") or [])
                elif node == "synthesize":
                    final = values
                elif findings is not None:
                    for r in values.get("results") or []:
                        yield "delta", findings.add(r)
        answer = final.get("answer", "")
        closing = findings.rest(answer) if findings else answer
        if closing:
            yield "delta", closing
        yield "final", self._result(final)


_engines: dict[str, HealthMonitor] = {}
_engines_lock = threading.Lock()


def get_engine(config: str | None = None) -> HealthMonitor:
    """A shared engine per variant name/path (for the CLI and benchmarks)."""
    key = str(config or "")
    with _engines_lock:
        if key not in _engines:
            _engines[key] = HealthMonitor(config)
        return _engines[key]
