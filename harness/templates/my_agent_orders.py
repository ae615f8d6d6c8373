"""The agent's one tool: order look-up (replace with your own data source)."""

from __future__ import annotations

ORDERS = {
    "A-1001": {"status": "shipped", "date": "2026-01-15", "items": 2},
    "A-1002": {"status": "processing", "date": "2026-01-17", "items": 3},
}


def find_order(text: str) -> tuple[str, dict] | None:
    """The first order whose id the text mentions, with its record."""
    return next(((order_id, order) for order_id, order in ORDERS.items() if order_id in text), None)
