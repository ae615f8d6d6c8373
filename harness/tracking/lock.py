"""The registry lock: at most one process moves an alias or registers a version of a model at a time.

MLflow has no atomic compare-and-set on an alias, so every harness write to the registry runs under
a lock on the tracking store itself: a registered model named `<model>.harness-lock`, created with
its owner's token as tags. Creating a registered model is exclusive in every MLflow store (the name
is the table's primary key in the SQL stores behind both SQLite and a tracking server), so at most
one process holds the lock; the holder re-reads what it decided on under it. A lock left by a
process that died expires after LOCK_TTL_S (by the holder's clock) and is then deleted by the next
process that needs it, at once when the holder was a process of this machine that is gone; a
holder checks that it still owns the lock right before it writes.
"""

from __future__ import annotations

import getpass
import os
import random
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness import HarnessError, first_line
from harness.tracking.connection import error_code as _error_code
from harness.tracking.connection import mlflow_client

LOCK_SUFFIX = ".harness-lock"
LOCK_TAG_PREFIX = "harness.lock."
LOCK_TTL_S = 120.0
LOCK_TIMEOUT_S = 30.0


def who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name and no passwd entry (some containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Lease:
    client: Any
    name: str  # the lock's registered-model name
    token: str

    def holder(self) -> dict[str, str] | None:
        return _lock_tags(self.client, self.name)

    def check(self) -> None:
        """Raise unless this process still holds the lock (it may have expired and been taken over)."""
        holder = self.holder()
        if not holder or holder.get(LOCK_TAG_PREFIX + "owner") != self.token:
            raise HarnessError(
                f"lost the registry lock {self.name} before writing (it expired after {LOCK_TTL_S:g}s and was "
                "taken over); nothing moved"
            )


def _lock_tags(client: Any, name: str) -> dict[str, str] | None:
    from mlflow.exceptions import MlflowException

    try:
        return dict(client.get_registered_model(name).tags)
    except MlflowException as exc:
        if _error_code(exc) == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise


def _expired(holder: dict[str, str]) -> bool:
    """Past its expiry, or held by a process of this machine that no longer runs (killed mid-move)."""
    try:
        if float(holder.get(LOCK_TAG_PREFIX + "expires", "0")) < time.time():
            return True
    except ValueError:
        return True
    return holder.get(LOCK_TAG_PREFIX + "by", "").rpartition("@")[2] == socket.gethostname() and not _running(
        holder.get(LOCK_TAG_PREFIX + "pid", "")
    )


def _running(pid: str) -> bool:
    if not pid.isdigit():
        return True  # unknown: trust the expiry
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def lock_holder(model_name: str, client: Any = None) -> dict[str, str] | None:
    """Who holds the model's registry lock right now (tags without the prefix), or None."""
    tags = _lock_tags(client or mlflow_client(), model_name + LOCK_SUFFIX)
    return {k[len(LOCK_TAG_PREFIX) :]: v for k, v in tags.items() if k.startswith(LOCK_TAG_PREFIX)} if tags else None


def _not_taken(model_name: str, holder: dict[str, str] | None, timeout_s: float, error: str) -> HarnessError:
    """Why the lock could not be taken: who holds it, or the store's last error."""
    if holder:
        h = {k[len(LOCK_TAG_PREFIX) :]: v for k, v in holder.items()}
        return HarnessError(
            f"the registry lock of '{model_name}' is held by {h.get('by', '?')} (pid {h.get('pid', '?')}, "
            f"{h.get('purpose', '?')}, since {h.get('since', '?')}); waited {timeout_s:g}s, nothing moved: try again "
            f"(a lock left by a process that died expires {LOCK_TTL_S:g}s after it was taken)"
        )
    return HarnessError(
        f"could not take the registry lock of '{model_name}' within {timeout_s:g}s: {error}; nothing moved"
    )


@contextmanager
def registry_lock(
    model_name: str, purpose: str, timeout_s: float = LOCK_TIMEOUT_S, ttl_s: float = LOCK_TTL_S
) -> Iterator[Lease]:
    """Hold the model's registry lock, waiting up to `timeout_s` for another holder to finish."""
    from mlflow.exceptions import MlflowException

    client = mlflow_client()
    lease = Lease(client, model_name + LOCK_SUFFIX, uuid.uuid4().hex)
    deadline = time.monotonic() + timeout_s
    while True:
        tags = {
            "owner": lease.token,
            "by": who(),
            "pid": str(os.getpid()),
            "purpose": purpose,
            "since": now_iso(),
            "expires": f"{time.time() + ttl_s:.3f}",
        }
        holder, error = None, ""
        try:
            client.create_registered_model(
                lease.name,
                tags={LOCK_TAG_PREFIX + k: v for k, v in tags.items()},
                description=f"harness registry lock of '{model_name}' (transient; deleted when the move is done)",
            )
            break
        except MlflowException as exc:
            if _error_code(exc) in ("INVALID_PARAMETER_VALUE", "PERMISSION_DENIED", "UNAUTHENTICATED"):
                raise HarnessError(f"cannot create the registry lock {lease.name}: {first_line(exc)}") from None
            if _error_code(exc) == "RESOURCE_ALREADY_EXISTS":
                holder = _lock_tags(client, lease.name)
                if holder and holder.get(LOCK_TAG_PREFIX + "owner") == lease.token:
                    break  # our own create, retried by the client after a lost response
                if holder and _expired(holder):
                    _delete_quietly(client, lease.name)
                    continue
            # otherwise a transient store error (e.g. SQLite busy): wait and try again
            error = first_line(exc)
        if time.monotonic() >= deadline:
            raise _not_taken(model_name, holder, timeout_s, error)
        time.sleep(random.uniform(0.05, 0.2))
    try:
        lease.check()  # read it back
        yield lease
    finally:
        try:
            holder = _lock_tags(client, lease.name)
            if holder and holder.get(LOCK_TAG_PREFIX + "owner") == lease.token:
                _delete_quietly(client, lease.name)
        except Exception:
            pass  # the lock expires on its own


def _delete_quietly(client: Any, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.delete_registered_model(name)
    except MlflowException:
        pass  # already deleted or released by someone else
