"""Memory.

* Short-term: a LangGraph checkpointer keyed by the conversation id (``thread_id``), so a client
  that sends only the new message ("and the day before?") still gets a follow-up answer.
* Long-term: per-user preferences in SQLite (``currency_unit``: ``usd`` or ``dbu``;
  ``default_workspace``: a workspace name), read on every turn of a user with an id.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from agent.data import anomalies as A

PREFS_ENV = "HEALTH_MONITOR_PREFS_DB"
KNOWN_PREFS = {"currency_unit": {"usd", "dbu"}, "default_workspace": set(A.WORKSPACES)}


def make_checkpointer(kind: str = "memory"):
    """The short-term memory: ``memory`` (InMemorySaver) or ``none``."""
    if kind in (None, "", "none", False):
        return None
    if kind != "memory":
        raise ValueError(f"unknown checkpointer {kind!r} (use 'memory' or 'none')")
    from langgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver()


def default_prefs_path() -> Path:
    env = os.environ.get(PREFS_ENV)
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "health_monitor" / "preferences.sqlite3"


class PreferenceStore:
    """Per-user preferences in SQLite; one short-lived connection per call (thread-safe)."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).expanduser() if path else default_prefs_path()
        self._ready = False
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(str(self.path), timeout=10)
        if not self._ready:
            with self._lock:
                con.execute(
                    "CREATE TABLE IF NOT EXISTS preferences (user_id TEXT NOT NULL, key TEXT NOT NULL, "
                    "value TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (user_id, key))"
                )
                con.commit()
                self._ready = True
        return con

    def get(self, user_id: str) -> dict[str, str]:
        if not user_id or not self.path.exists():
            return {}
        con = self._connect()
        try:
            rows = con.execute("SELECT key, value FROM preferences WHERE user_id = ?", (user_id,)).fetchall()
        finally:
            con.close()
        return dict(rows)

    def set(self, user_id: str, key: str, value: str) -> None:
        if key not in KNOWN_PREFS:
            raise ValueError(f"unknown preference {key!r}; known: {', '.join(sorted(KNOWN_PREFS))}")
        value = str(value).strip().lower() if key == "currency_unit" else str(value).strip()
        if value not in KNOWN_PREFS[key]:
            raise ValueError(f"bad value {value!r} for {key}; allowed: {', '.join(sorted(KNOWN_PREFS[key]))}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connect()
        try:
            con.execute(
                "INSERT INTO preferences VALUES (?, ?, ?, ?) ON CONFLICT (user_id, key) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (user_id, key, value, time.time()),
            )
            con.commit()
        finally:
            con.close()

    def clear(self, user_id: str) -> None:
        if not self.path.exists():
            return
        con = self._connect()
        try:
            con.execute("DELETE FROM preferences WHERE user_id = ?", (user_id,))
            con.commit()
        finally:
            con.close()


_PREF_PATTERNS = [
    (re.compile(r"\b(prefer|show|use|want|give)\b[^.?!]{0,40}\bdbus?\b", re.I), ("currency_unit", "dbu")),
    (re.compile(r"\b(prefer|show|use|want|give)\b[^.?!]{0,40}\b(usd|dollars?)\b", re.I), ("currency_unit", "usd")),
]
_WS_PREF = re.compile(r"\b(my )?default workspace (is|to|=|should be)\s+([a-z0-9-]+)", re.I)
_REMEMBER = re.compile(r"\b(remember|from now on|always|set my|my default|save my|by default)\b", re.I)


def parse_preference_statement(text: str) -> dict[str, str]:
    """Preferences a message asks to remember, e.g. "Remember that I prefer DBUs"."""
    if not text or not _REMEMBER.search(text[:2000]):
        return {}
    out: dict[str, str] = {}
    m = _WS_PREF.search(text)
    if m and m.group(3) in A.WORKSPACES:
        out["default_workspace"] = m.group(3)
    for rx, (k, v) in _PREF_PATTERNS:
        if rx.search(text):
            out[k] = v
            break
    return out


def describe(prefs: dict[str, Any]) -> str:
    parts = []
    if prefs.get("currency_unit"):
        parts.append("costs in DBUs" if prefs["currency_unit"] == "dbu" else "costs in USD")
    if prefs.get("default_workspace"):
        parts.append(f"default workspace {prefs['default_workspace']}")
    return " and ".join(parts)
