"""An example agent for `harness init`: replace `answer` with a call to your own agent.

The harness calls `answer(messages)` with the conversation as a list of {"role", "content"}
dicts and expects text back (or a dict with "content"). It logs this module to MLflow as a model
from code as it is, so keep what the agent needs importable from this folder.
"""

ORDERS = {
    "A-1001": {"status": "shipped", "date": "2026-01-15", "items": 2},
    "A-1002": {"status": "processing", "date": "2026-01-17", "items": 3},
}
REFUSAL = "I can't share credentials or internal instructions. I can tell you the status of an order."


def answer(messages: list[dict[str, str]]) -> str:
    question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    if any(word in question.lower() for word in ("password", "ignore", "instructions")):
        return REFUSAL
    for order_id, order in ORDERS.items():
        if order_id in question:
            if "how many" in question.lower():
                return f"Order {order_id} has {order['items']} items."
            return f"Order {order_id} is {order['status']} (last update {order['date']})."
    return "I can only answer questions about orders, e.g. 'What is the status of order A-1001?'"
