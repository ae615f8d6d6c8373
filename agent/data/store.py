"""The read-only DuckDB store the agent queries.

The store file is built on first use if missing (or built by an older generator), to a
temporary file that is then atomically renamed, under an exclusive file lock so parallel
processes (pytest-xdist workers, harness workers) never race. ``HEALTH_MONITOR_DB``
overrides the path. The agent only ever opens the file read-only.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.data import anomalies

DEFAULT_PATH = Path(__file__).resolve().parent / "platform.duckdb"
ENV_VAR = "HEALTH_MONITOR_DB"

#: Seconds the last build took in this process (None if this process did not build).
last_build_seconds: float | None = None


def store_path() -> Path:
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser().resolve() if env else DEFAULT_PATH


@contextmanager
def _file_lock(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(lock_path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX
            fcntl = None
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _is_current(path: Path) -> bool:
    if not path.exists():
        return False
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            row = con.execute("SELECT value FROM store_meta WHERE key = 'generator_version'").fetchone()
        finally:
            con.close()
    except Exception:
        return False
    return bool(row) and row[0] == anomalies.GENERATOR_VERSION


def _writable(folder: Path) -> bool:
    """Whether a store can be built in `folder` (made if missing): its nearest existing folder is writable."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def ensure_store(path: str | os.PathLike | None = None, *, force: bool = False) -> Path:
    """Make sure a current store exists at ``path`` (default: :func:`store_path`); return it."""
    global last_build_seconds
    path = Path(path).resolve() if path else store_path()
    if not force and _is_current(path):
        return path
    if not path.exists() and not _writable(path.parent):
        # A read-only install (a sandbox, a container image): build it where this process may write.
        path = Path(tempfile.gettempdir()) / f"health-monitor-{anomalies.GENERATOR_VERSION}" / path.name
        if not force and _is_current(path):
            return path
    with _file_lock(path.with_name(path.name + ".lock")):
        if not force and _is_current(path):  # another process built it while we waited
            return path
        from agent.data.generator import build_store

        t0 = time.perf_counter()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        for p in (tmp, Path(str(tmp) + ".wal")):
            if p.exists():
                p.unlink()
        try:
            build_store(tmp)
            os.replace(tmp, path)
        finally:
            for p in (tmp, Path(str(tmp) + ".wal")):
                if p.exists():
                    p.unlink()
        last_build_seconds = time.perf_counter() - t0
    return path


CACHE_ENV = "HEALTH_MONITOR_QUERY_CACHE"


class Store:
    """One read-only DuckDB connection; each thread queries through its own cursor.

    Because the store is read-only and immutable, results are memoised per (SQL, parameters)
    in a small LRU cache; set ``HEALTH_MONITOR_QUERY_CACHE=0`` (or ``cache_size=0``) to disable.
    """

    def __init__(self, path: str | os.PathLike | None = None, cache_size: int | None = None):
        import duckdb

        self.path = ensure_store(path)
        self._con = duckdb.connect(str(self.path), read_only=True)
        self._lock = threading.Lock()
        self._local = threading.local()
        if cache_size is None:
            cache_size = 0 if os.environ.get(CACHE_ENV, "1").lower() in ("0", "false", "no", "off") else 512
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple, list[dict[str, Any]]] = OrderedDict()

    def _cursor(self):
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._lock:
                cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run one parameterised, read-only statement and return its rows as dicts."""
        key = (sql, tuple(params or ()))
        if self.cache_size:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return [dict(r) for r in hit]
        cur = self._cursor()
        cur.execute(sql, list(params or []))
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, row)) for row in cur.fetchall()]
        if self.cache_size:
            with self._lock:
                self._cache[key] = rows
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            return [dict(r) for r in rows]
        return rows

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def tables(self) -> list[str]:
        return [r["table_name"] for r in self.query("SELECT table_name FROM information_schema.tables ORDER BY 1")]

    def close(self) -> None:
        with self._lock:
            self._con.close()


_stores: dict[Path, Store] = {}
_stores_lock = threading.Lock()


def get_store(path: str | os.PathLike | None = None) -> Store:
    """The process-wide store for ``path`` (default: :func:`store_path`), opened once."""
    key = Path(path).resolve() if path else store_path()
    store = _stores.get(key)
    if store is None:
        with _stores_lock:
            store = _stores.get(key)
            if store is None:
                store = _stores[key] = Store(key)
    return store
