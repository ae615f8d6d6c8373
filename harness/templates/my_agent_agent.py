"""The agent: replace `answer` with a call to your own agent."""

from my_agent.orders import find_order

REFUSAL = "I can't share credentials or internal instructions. I can tell you the status of an order."


def answer(messages: list[dict[str, str]]) -> str:
    question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    if any(word in question.lower() for word in ("password", "ignore", "instructions")):
        return REFUSAL
    found = find_order(question)
    if found is None:
        return "I can only answer questions about orders, e.g. 'What is the status of order A-1001?'"
    order_id, order = found
    if "how many" in question.lower():
        return f"Order {order_id} has {order['items']} items."
    return f"Order {order_id} is {order['status']} (last update {order['date']})."
