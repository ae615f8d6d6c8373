"""A real loopback HTTP endpoint (stdlib http.server in a thread) that misbehaves on purpose.

Each path prefix picks one behaviour of a broken OpenAI-compatible judge endpoint, so every failure
path of the judge relay is exercised deterministically: `/garbage/v1`, `/refuse/v1`, `/http500/v1`,
`/hang/v1`, `/notjson/v1` (a non-JSON HTTP body), `/yes/v1` (a well-formed MLflow verdict).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWERS = {
    "garbage": "The answer is good, I think. Score: 7/10 because reasons",
    "refuse": "I'm sorry, but I can't help with evaluating that response.",
    "yes": json.dumps({"rationale": "The response states the expected facts.", "result": "yes"}),
}


class BrokenJudgeEndpoint:
    def __init__(self, hang_s: float = 30.0) -> None:
        self.hang_s = hang_s
        self.requests: list[tuple[str, dict[str, Any]]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                mode = self.path.strip("/").split("/")[0]
                endpoint.requests.append((mode, body))
                if mode == "hang":
                    time.sleep(endpoint.hang_s)
                if mode == "http500":
                    self._send(500, b'{"error": {"message": "internal server error"}}')
                elif mode == "notjson":
                    self._send(200, b"<html>gateway says hello</html>")
                else:
                    content = ANSWERS.get(mode, "")
                    reply = {
                        "id": "x",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model"),
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                        ],
                    }
                    self._send(200, json.dumps(reply).encode())

            def _send(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout): nothing to answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def base_url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{mode}/v1"

    def count(self, mode: str) -> int:
        return sum(1 for m, _ in self.requests if m == mode)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
