"""How agent code is run: in a bubblewrap sandbox, each process with a private scratch folder.

Every process that runs an agent's code (the one that saves it as a model from code, the worker
that answers from the saved artifact, and anything they start) sees the filesystem read-only except
its own scratch folder, has its own PID namespace (every descendant dies with it, a detached one
too; it ends when its socket to the harness closes), its own /proc (the harness's environment and the signing
key in it are out of reach), no
capabilities, and the network as usual (agents call LLMs and services).

Where bubblewrap cannot run (no `bwrap`, no user namespaces), agent processes run unconfined: the
session says so, the sealed record says `sandbox: none`, and the `require_sandbox` policy decides
whether such a record may promote (by default: not under CI).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BUBBLEWRAP = "bubblewrap"
NONE = "none"
SANDBOX_ENV = "HARNESS_SANDBOX"  # "none" forces unconfined agent processes (a laptop without namespaces, a debugger)


@dataclass(frozen=True)
class Sandbox:
    """Which confinement agent processes get here, and why it is `none` when it is."""

    kind: str
    reason: str = ""

    @property
    def confined(self) -> bool:
        return self.kind == BUBBLEWRAP

    def line(self) -> str:
        """One line for the session's terminal when agent code runs unconfined."""
        return f"sandbox: none ({self.reason}); agent code runs with this user's access to the project and the store"


_PROBE = ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--cap-drop", "ALL", "true"]


@functools.cache
def _probe(bwrap: str) -> str:
    """'' when bubblewrap starts a sandbox here, else what it said."""
    try:
        done = subprocess.run([bwrap, *_PROBE], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap did not start: {exc}"
    return (
        ""
        if done.returncode == 0
        else f"bwrap failed: {(done.stderr.strip().splitlines() or ['exit ' + str(done.returncode)])[-1]}"
    )


def detect() -> Sandbox:
    """The sandbox agent processes get in this environment (probed once per process)."""
    if os.environ.get(SANDBOX_ENV, "").strip().lower() == NONE:
        return Sandbox(NONE, f"{SANDBOX_ENV}=none")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Sandbox(NONE, "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    failure = _probe(bwrap)
    return Sandbox(NONE, failure) if failure else Sandbox(BUBBLEWRAP)


def required(policy: str, environ: dict[str, str] | None = None) -> bool:
    """Whether the `require_sandbox` policy makes an unconfined session unpromotable."""
    ci = (os.environ if environ is None else environ).get("CI", "").strip().lower()
    return policy == "always" or (policy == "ci" and ci not in ("", "false"))


def new_scratch(name: str) -> Path:
    """A private folder for one agent process: the only place it may write."""
    scratch = Path(tempfile.mkdtemp(prefix=f"harness-sandbox-{name[:40]}-"))
    for sub in ("tmp", "home"):
        (scratch / sub).mkdir()
    return scratch


def remove_scratch(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)


def scratch_environment(scratch: Path) -> dict[str, str]:
    """Where well-behaved libraries put temporary files and caches: inside the scratch folder."""
    return {
        "TMPDIR": str(scratch / "tmp"),
        "HOME": str(scratch / "home"),
        "XDG_CACHE_HOME": str(scratch / "home" / ".cache"),
        "MPLCONFIGDIR": str(scratch / "home" / ".matplotlib"),
    }


def command(sandbox: Sandbox, argv: Sequence[str], scratch: Path, cwd: Path) -> list[str]:
    """`argv` as run in `sandbox`: read-only everywhere but `scratch`, own PID namespace and /proc,
    no capabilities. Not `--die-with-parent`: that ties the sandbox to the thread that started it
    (a worker restarted from a runner thread would die with the thread); a worker exits when its
    socket to the harness closes, and its PID namespace takes every descendant with it."""
    if not sandbox.confined:
        return list(argv)
    bwrap = shutil.which("bwrap") or "bwrap"
    return [
        bwrap,
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/dev/shm",
        "--bind",
        str(scratch),
        str(scratch),
        "--unshare-pid",
        "--unshare-ipc",
        "--cap-drop",
        "ALL",
        "--chdir",
        str(cwd),
        "--",
        *argv,
    ]
