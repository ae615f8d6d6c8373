"""Shared plumbing for the domain tools."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolResult:
    """Rows returned by one parameterised SQL statement, with the SQL text and tables it read."""

    rows: list[dict[str, Any]]
    sql: str
    tables: tuple[str, ...]
    params: tuple[Any, ...] = field(default=())

    def sources(self) -> list[dict[str, str]]:
        return [{"table": t, "sql": self.sql} for t in self.tables]


def run(sql: str, params: Sequence[Any], tables: Sequence[str], store=None) -> ToolResult:
    """Run ``sql`` with bound ``params`` on the read-only store (default: the process store)."""
    if store is None:
        from agent.data.store import get_store

        store = get_store()
    sql = " ".join(sql.split())
    return ToolResult(rows=store.query(sql, params), sql=sql, tables=tuple(tables), params=tuple(params))


def iso(d) -> str:
    return d if isinstance(d, str) else d.isoformat()
