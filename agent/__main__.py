"""``python -m agent "Why did costs spike yesterday?"`` - ask the Health Monitor from the shell.

Options: ``--stream`` prints the answer as it is written; ``--json`` prints the ChatAgent-shaped
response (messages + custom_outputs: sources, domains, confidence); ``--config`` picks the variant
(``v1``, ``v2``, ``degraded`` or a YAML path); ``--conversation-id``/``--user-id`` set the memory keys.
With no question, reads one from standard input.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m agent", description="Ask the Health Monitor agent a question.")
    ap.add_argument("question", nargs="*", help="the question (default: read from stdin)")
    ap.add_argument(
        "--config",
        default=None,
        help="variant name (v1, v2, degraded) or YAML path; default: HEALTH_MONITOR_CONFIG or v1",
    )
    ap.add_argument("--stream", action="store_true", help="print the answer as it is produced")
    ap.add_argument("--json", action="store_true", help="print a JSON ChatAgent response")
    ap.add_argument("--conversation-id", default=None, help="conversation id for follow-up memory")
    ap.add_argument("--user-id", default=None, help="user id for long-term preferences")
    a = ap.parse_args(argv)
    question = " ".join(a.question) if a.question else sys.stdin.read().strip()

    from agent.graph import HealthMonitor

    try:
        engine = HealthMonitor(a.config)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    messages = [{"role": "user", "content": question}]
    msg_id = str(uuid.uuid4())
    if a.stream:
        result = None
        for kind, value in engine.stream(messages, a.conversation_id, a.user_id):
            if kind == "delta":
                if a.json:
                    print(json.dumps({"delta": {"role": "assistant", "content": value, "id": msg_id}}), flush=True)
                else:
                    sys.stdout.write(value)
                    sys.stdout.flush()
            else:
                result = value
        if a.json:
            print(
                json.dumps(
                    {
                        "delta": {"role": "assistant", "content": "", "id": msg_id},
                        "finish_reason": "stop",
                        "custom_outputs": _outputs(result),
                    }
                )
            )
        else:
            sys.stdout.write("\n")
        return 0
    result = engine.run(messages, a.conversation_id, a.user_id)
    if a.json:
        print(
            json.dumps(
                {
                    "messages": [{"role": "assistant", "content": result["content"], "id": msg_id}],
                    "finish_reason": "stop",
                    "custom_outputs": _outputs(result),
                },
                indent=2,
            )
        )
    else:
        print(result["content"])
    return 0


def _outputs(r: dict | None) -> dict:
    r = r or {}
    return {"sources": r.get("sources", []), "domains": r.get("domains", []), "confidence": r.get("confidence", 0.0)}


if __name__ == "__main__":
    sys.exit(main())
