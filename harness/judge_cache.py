"""On-disk cache of judge answers, so a rerun over unchanged answers costs no judge calls.

Keys are SHA-256 digests of the upstream endpoint, the judge, the repeat number and the full
request (model, prompt with the answer in it, response format), computed by the relay in
harness/scorers/relay.py. Only answers that passed the relay's checks are stored, so a judge
error is always retried on the next run. The default folder is `.harness-cache/judge/`
(git-ignored); `--judge-cache off` (or `judge_cache = false`) disables it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class JudgeCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            value = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # absent or torn: call the judge again
        self.hits += 1
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: concurrent judge calls (xdist workers) never read half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh)
        os.replace(tmp, path)
