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

import atexit
import fcntl
import functools
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BUBBLEWRAP = "bubblewrap"
NONE = "none"
SANDBOX_ENV = "HARNESS_SANDBOX"  # "none" forces unconfined agent processes (a laptop without namespaces, a debugger)
SESSION_PREFIX = "harness-session-"  # in the temporary directory: one folder per harness process
OWNER_FILE = ".owner"  # locked by the process whose folder it is, for as long as it lives

_session: Path | None = None
_session_lock = threading.Lock()
_owner: list[int] = []  # the open, locked owner file of `_session`
_registered: list[bool] = []  # the exit handler, registered once


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


def session_temp() -> Path:
    """This process's temporary folder, which holds its agent processes' scratch folders and raw logs:
    created on first use (removing first the folders of processes that are gone, a SIGKILL included)
    and removed when the session closes or the process exits."""
    global _session
    with _session_lock:
        if _session is None or not _session.is_dir():
            _remove_orphans()
            folder = Path(tempfile.mkdtemp(prefix=f"{SESSION_PREFIX}{os.getpid()}-"))
            # Held until this process ends, however it ends: the kernel releases it, and a later
            # process that can take it knows the folder is nobody's (pid namespaces and shared /tmp included).
            handle = os.open(folder / OWNER_FILE, os.O_CREAT | os.O_WRONLY, 0o600)
            fcntl.flock(handle, fcntl.LOCK_EX)
            _session, _owner[:] = folder, [handle]
            if not _registered:
                atexit.register(remove_session_temp)
                _registered.append(True)
        return _session


def remove_session_temp() -> None:
    """Remove this process's temporary folder (after its agent processes have stopped)."""
    global _session
    with _session_lock:
        if _session is not None:
            shutil.rmtree(_session, ignore_errors=True)
            _session = None
        for handle in _owner:
            os.close(handle)
        _owner.clear()


def _remove_orphans() -> None:
    for folder in Path(tempfile.gettempdir()).glob(f"{SESSION_PREFIX}*"):
        try:
            handle = os.open(folder / OWNER_FILE, os.O_RDONLY)
        except OSError:
            continue  # not ours to judge (another user's, or still being created)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its process is alive
        finally:
            os.close(handle)
        shutil.rmtree(folder, ignore_errors=True)


def new_scratch(name: str) -> Path:
    """A private folder for one agent process: the only place it may write."""
    scratch = Path(tempfile.mkdtemp(prefix=f"sandbox-{name[:40]}-", dir=session_temp()))
    for sub in ("tmp", "home"):
        (scratch / sub).mkdir()
    return scratch


def remove_scratch(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)


# The tracking store's credentials: the harness logs and downloads models for its agents, so agent
# code never needs them (on a team server they may move aliases).
STORE_CREDENTIALS = (
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_CLIENT_CERT_PATH",
    "MLFLOW_TRACKING_SERVER_CERT_PATH",
)


def agent_environment() -> dict[str, str]:
    """The environment an agent's process gets: this one's, without the harness's own settings and
    secrets (HARNESS_*: the signing key, endpoint tokens) and the store's credentials, which agent
    code has no business reading."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HARNESS_") and key not in STORE_CREDENTIALS
    }


def private_store(scratch: Path) -> dict[str, str]:
    """A sandboxed process never talks to the session's store (the harness logs and downloads its
    models): the traces it makes go to a store in its scratch folder, and the harness gets what it
    needs of them in the replies. A folder store: nothing to create up front, unlike SQLite."""
    private = f"file://{scratch / 'mlruns'}"
    return {"MLFLOW_TRACKING_URI": private, "MLFLOW_REGISTRY_URI": private, "MLFLOW_ALLOW_FILE_STORE": "true"}


def plain_tree(root: Path) -> bool:
    """Whether `root` is a folder of plain folders and files only: the harness reads and uploads what
    an agent's process saved, and a link there would point it at any file of this machine."""
    if root.is_symlink() or not root.is_dir():
        return False
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            info = os.lstat(os.path.join(folder, name))
            if stat.S_ISLNK(info.st_mode) or not (
                stat.S_ISDIR(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_nlink == 1)
            ):
                return False
    return True


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
