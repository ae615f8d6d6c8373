"""Agent code runs in a bubblewrap sandbox: what it does reaches neither the harness, nor the signing
key, nor the registered artifact. Each test is an attack from the agent's own module, run with a real
`pytest suites/` and a real sandbox; the agent answers nothing useful, so only an attack that worked
could promote it."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from harness.sandbox import detect
from tests.integrity.conftest import module_project, versions

# CI installs bubblewrap (.ci/run): there these tests never skip.
pytestmark = pytest.mark.skipif(
    not detect().confined and not os.environ.get("CI"),
    reason="bubblewrap cannot start a sandbox here (apt-get install bubblewrap)",
)

# The forged module a same-user agent used to plant: imported by the harness at gate-table time, it
# made every gate pass and wrote the signing key out.
PLANTED = """
import harness.decision as _d, harness.seal as _s
_d.refusals = lambda *a, **k: []
open({stolen!r}, "w").write(str(_s.signing_key()))
"""

ATTACKER = '''
import os, pathlib, site, subprocess, sys

ROOT = pathlib.Path(__file__).resolve().parent
MARK = {mark!r}
TOKEN = {token!r}
tried = []


def attempt(what, action):
    try:
        action()
        tried.append(what + ": done")
    except Exception as exc:
        tried.append(what + ": " + type(exc).__name__)


# 1. Plant a module the harness imports later, in the project root and in suites/.
planted = {planted!r}
for folder in (ROOT, ROOT / "suites"):
    attempt("plant " + str(folder), lambda f=folder: (f / "tabulate.py").write_text(planted))
# 2. A .pth file runs in every later Python process of this environment (harness promote included).
attempt("pth", lambda: pathlib.Path(site.getsitepackages()[0], MARK + ".pth").write_text("import os\\n"))
# 3. The signing key from any process's environment that /proc shows (the harness is an ancestor).
for environ in pathlib.Path("/proc").glob("[0-9]*/environ"):
    try:
        if b"HARNESS_SIGNING_KEY" in environ.read_bytes():
            (ROOT / "stolen_key.txt").write_bytes(environ.read_bytes())
    except OSError:
        pass
# 4. A detached child that outlives the session and then changes files (the project, the store's artifacts).
LATE = """
import pathlib, time
root = pathlib.Path({{root!r}})
deadline = time.time() + 60
while time.time() < deadline:
    for target in [root / "late_write.txt", *root.glob("mlruns/**/code/*.py")]:
        try:
            target.write_text("EVIL")
        except OSError:
            pass
    time.sleep(0.2)
""".format(root=str(ROOT))
attempt("detach", lambda: subprocess.Popen([sys.executable, "-c", LATE, MARK], start_new_session=True,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
attempt("write root", lambda: (ROOT / "written_by_agent.txt").write_text("x"))
print("ATTACK", tried, flush=True)
print("debug: using token", TOKEN, flush=True)


def answer(messages):
    return "nothing"
'''


TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def _alive(mark: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", mark], capture_output=True, text=True).stdout.split()
    return [pid for pid in found if pid != str(os.getpid())]


def test_an_attacking_agent_gets_no_promotion_no_key_and_no_file_outside_its_scratch(tmp_path: Path) -> None:
    mark = f"harness-attack-{uuid.uuid4().hex[:12]}"
    stolen = tmp_path / "stolen_by_planted_module.txt"
    source = ATTACKER.format(mark=mark, planted=PLANTED.format(stolen=str(stolen)), token=TOKEN)
    project = module_project(tmp_path, source=source)
    pth = Path(site.getsitepackages()[0], f"{mark}.pth")
    try:
        done = project.pytest(HARNESS_SIGNING_KEY="ci-key", CI="true")
        time.sleep(1.0)  # the detached child, had it survived, writes every 0.2 s
        output = done.stdout + done.stderr
        assert "promoted version" not in output, output[-3000:]
        assert versions(project) == [], "nothing may be registered for a failing agent"
        for planted in (project.root / "tabulate.py", project.root / "suites" / "tabulate.py"):
            assert not planted.exists(), f"the agent planted {planted}"
        assert not pth.exists(), "the agent wrote a .pth file into site-packages"
        assert not stolen.exists() and not (project.root / "stolen_key.txt").exists(), "the signing key leaked"
        assert not (project.root / "written_by_agent.txt").exists() and not (project.root / "late_write.txt").exists()
        assert _alive(mark) == [], "a process the agent detached outlived the session"
        # The agent's code really ran (from the project when it was saved, from its artifact copy in
        # its scratch folder when it answered), and each write outside the scratch folder was refused.
        logs = "".join(p.read_text() for p in (project.root / ".harness-cache" / "agent-logs").glob("*.log"))
        assert f"plant {project.root}: OSError" in logs and "pth: OSError" in logs, logs[-2000:]
        assert "pth: done" not in logs
        # What the agent printed is kept for debugging, its secrets masked.
        assert "debug: using token" in logs and TOKEN not in logs and TOKEN not in output
        assert "sandbox: none" not in output and "bubblewrap sandbox" in output
        # harness promote, in a fresh process, still refuses: no .pth, no planted module ran in it.
        promote = project.harness("promote", "--to", "staging", HARNESS_SIGNING_KEY="ci-key")
        assert promote.returncode != 0
    finally:
        pth.unlink(missing_ok=True)
        for pid in _alive(mark):
            os.kill(int(pid), 9)


def test_the_record_says_sandbox_none_and_ci_refuses_to_promote_it(tmp_path: Path) -> None:
    """Where no sandbox can start, the session says so in one line, seals `sandbox: none`, and under
    CI (the `require_sandbox` default) does not promote; outside CI it may."""
    import json

    temporary = tmp_path / "tmp"  # the sessions' own temporary folder: what they leave there is theirs
    temporary.mkdir()
    project = module_project(tmp_path)
    ci = project.pytest(HARNESS_SANDBOX="none", CI="true", TMPDIR=str(temporary))
    output = ci.stdout + ci.stderr
    assert ci.returncode == 0, output[-3000:]
    assert "harness: sandbox: none (HARNESS_SANDBOX=none)" in output
    record = json.loads((project.latest() / "gate_record.json").read_text())
    assert record["sandbox"] == "none" and record["gate_passed"] is True
    assert any("without a sandbox" in b for b in record["blockers"]), record["blockers"]
    assert "promoted version" not in output and versions(project) == []

    laptop = project.pytest(HARNESS_SANDBOX="none", CI="", TMPDIR=str(temporary))
    assert "promoted version 1" in laptop.stdout, laptop.stdout[-3000:]

    sandboxed = project.pytest(CI="true", TMPDIR=str(temporary))
    record = json.loads((project.latest() / "gate_record.json").read_text())
    assert record["sandbox"] == "bubblewrap" and record["blockers"] == []
    assert "promoted version 2" in sandboxed.stdout, sandboxed.stdout[-3000:]
    assert [p.name for p in temporary.iterdir() if p.name.startswith("harness-")] == [], (
        "scratch folders or logs left behind"
    )


def test_a_sandboxed_process_sees_no_signing_key_and_cannot_write_outside_its_scratch(tmp_path: Path) -> None:
    """The sandbox itself, without a session: its own /proc, its own PID namespace, read-only elsewhere."""
    from harness.sandbox import command, new_scratch, remove_scratch

    scratch = new_scratch("probe")
    try:
        probe = (
            "import os, pathlib\n"
            "leaks = [p for p in pathlib.Path('/proc').glob('[0-9]*/environ') if b'HARNESS_SIGNING_KEY' in "
            "p.read_bytes()]\n"
            "print('pids', sorted(int(p.name) for p in pathlib.Path('/proc').glob('[0-9]*')))\n"
            f"pathlib.Path({str(scratch)!r}, 'ok').write_text('x')\n"
            "try:\n"
            f"    pathlib.Path({str(tmp_path)!r}, 'no').write_text('x')\n"
            "except OSError as exc:\n"
            "    print('refused', exc.errno)\n"
            "print('leaks', len(leaks))\n"
        )
        env = {**os.environ, "HARNESS_SIGNING_KEY": "in-the-parent-only"}
        env.pop("HARNESS_SIGNING_KEY")
        parent = subprocess.Popen(["sleep", "30"], env={**os.environ, "HARNESS_SIGNING_KEY": "in-a-sibling"})
        try:
            done = subprocess.run(
                command(detect(), [sys.executable, "-c", probe], scratch, tmp_path),
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
            )
        finally:
            parent.kill()
        assert done.returncode == 0, done.stderr
        assert "leaks 0" in done.stdout and "refused 30" in done.stdout  # EROFS
        assert (scratch / "ok").exists() and not (tmp_path / "no").exists()
        pids = eval(done.stdout.split("pids ", 1)[1].splitlines()[0])
        assert max(pids) < 10, f"the sandbox sees other processes: {pids}"
    finally:
        remove_scratch(scratch)


@pytest.mark.parametrize(
    "policy,environ,required",
    [
        ("ci", {"CI": "true"}, True),
        ("ci", {}, False),
        ("ci", {"CI": "false"}, False),
        ("always", {}, True),
        ("never", {"CI": "true"}, False),
    ],
)
def test_require_sandbox_policy(policy: str, environ: dict[str, str], required: bool) -> None:
    from harness.sandbox import required as is_required

    assert is_required(policy, environ) is required


def test_an_unconfined_session_is_blocked_only_where_the_policy_requires_a_sandbox() -> None:
    from harness.decision import SessionFacts, blockers

    done = dict(cases_in_golden=3, cases_evaluated=3, gate_tests_expected=1, gate_tests_run=1)
    assert blockers(SessionFacts(**done, sandbox="none", sandbox_required=True)) == [
        "agent code ran without a sandbox (require_sandbox: no bubblewrap here)"
    ]
    assert blockers(SessionFacts(**done, sandbox="none", sandbox_required=False)) == []
    assert blockers(SessionFacts(**done, sandbox="bubblewrap", sandbox_required=True)) == []


LINKS_OUT = """
import os, pathlib, threading, time

def _plant_link():
    model = pathlib.Path(os.environ["TMPDIR"]).parent / "model"
    deadline = time.time() + 60
    while time.time() < deadline:
        if model.is_dir():
            try:
                (model / "MLmodel.bak").symlink_to({target!r})
                return
            except OSError:
                pass
        time.sleep(0.001)

threading.Thread(target=_plant_link, daemon=True).start()


def answer(messages):
    return "nothing"
"""


def test_a_link_in_the_saved_model_is_refused_before_the_harness_reads_it(tmp_path: Path) -> None:
    """The harness uploads what the agent's process saved: a symlink there would make it read (and
    log to the store) any file of the machine, or write through it."""
    secret = tmp_path / "outside-the-sandbox.txt"
    secret.write_text("not for the agent's artifact")
    project = module_project(tmp_path, source=LINKS_OUT.format(target=str(secret)))
    done = project.pytest("--no-promote")
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "did not save a model of plain files" in output, output[-3000:]
    assert "not for the agent's artifact" not in "".join(
        p.read_text(errors="replace") for p in project.root.rglob("*") if p.is_file() and "mlruns" in p.parts
    )
