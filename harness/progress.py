"""A live progress line for the evaluation: answers done of all, errors so far, elapsed, ETA."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ProgressLine:
    """Called after every answer; writes through `write(text, final)` at most every `every_s` seconds
    on a terminal (one line rewritten in place) or every `every_s_log` seconds in a log (CI)."""

    def __init__(self, write: Callable[[str, bool], None], tty: bool, every_s: float = 0.2, every_s_log: float = 10.0) -> None:
        self.write, self.tty = write, tty
        self.every_s = every_s if tty else every_s_log
        self.started = time.monotonic()
        self.last = float("-inf")
        self.lock = threading.Lock()

    def __call__(self, done: int, total: int, errors: int) -> None:
        now = time.monotonic()
        final = done >= total
        with self.lock:
            if not final and now - self.last < self.every_s:
                return
            self.last = now
        elapsed = now - self.started
        eta = f", about {elapsed / done * (total - done):.0f} s left" if done and not final else ""
        self.write(f"harness: {done}/{total} answers, {errors} error(s), {elapsed:.0f} s{eta}", final)
