"""``python -m agent.data [--force] [PATH]``: build the store and print where and how long."""

import argparse
import time

from agent.data import store


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m agent.data", description=__doc__)
    ap.add_argument("path", nargs="?", help="store file (default: HEALTH_MONITOR_DB or agent/data/platform.duckdb)")
    ap.add_argument("--force", action="store_true", help="rebuild even if a current store exists")
    a = ap.parse_args()
    t0 = time.perf_counter()
    p = store.ensure_store(a.path, force=a.force)
    print(f"store: {p} ({time.perf_counter() - t0:.2f} s)")


if __name__ == "__main__":
    main()
