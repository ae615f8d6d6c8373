"""Trust where a version is consumed: `harness verify`, `harness status --check` and `harness serve`
accept an alias only where the harness moved it, onto a version whose sealed record verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from harness.seal import tree_sha256
from tests.fixtures.project import REPO


def rogue(reg) -> str:
    """A version registered outside the harness and given @production by hand, as a careless teammate would."""
    version = str(reg.client.create_model_version(reg.name, reg.store.model_uri).version)
    reg.client.set_registered_model_alias(reg.name, "production", version)
    return version


def test_a_version_aliased_outside_the_harness_fails_verify_status_check_and_serve(reg):
    good = reg.add()
    assert reg.cli("promote", "--to", "development", "--version", good)[0] == 0
    bad = rogue(reg)

    code, out, _ = reg.cli("verify", f"models:/{reg.name}@production")
    assert code == 1
    assert out.splitlines() == [
        f"models:/{reg.name}@production: version {bad} has no sealed gate record (tag harness.gate_record): "
        "only a version that the "
        "harness evaluated from its logged artifact and registered after a passing, complete session can be promoted",
        f"models:/{reg.name}@production: @production points at version {bad} and the harness never moved it: "
        "moved outside the harness",
    ]
    code, out, _ = reg.cli("status")
    assert code == 0 and "@production  " in out and "no sealed record, moved outside the harness" in out
    code, out, _ = reg.cli("status", "--check")
    assert code == 1 and f"models:/{reg.name}@production: @production points at version {bad}" in out
    code, _, err = reg.cli("serve", f"models:/{reg.name}@production", "--timeout", "5")
    assert (
        code == 1
        and err.startswith("harness serve: error: refusing to serve an unverified version: ")
        and "\n" not in err.strip()
    )
    assert "(--allow-unverified overrides)" in err
    # Every alias at once: the good one verifies, the rogue one does not.
    code, out, _ = reg.cli("verify")
    assert code == 1 and f"verified models:/{reg.name}@development (version {good})" in out and "@production:" in out


def test_a_sealed_version_moved_by_hand_is_caught_by_its_position(reg):
    v1, v2 = reg.add(), reg.add()
    assert reg.cli("promote", "--to", "development", "--version", v1)[0] == 0
    reg.client.set_registered_model_alias(reg.name, "development", v2)  # a good record, but no harness move
    code, out, _ = reg.cli("verify", f"models:/{reg.name}@development")
    assert code == 1 and out.strip() == (
        f"models:/{reg.name}@development: @development points at version {v2}, but its last move in the "
        "harness's history is "
        f"to version {v1} (promote by {reg.history()[-1]['by']} at {reg.history()[-1]['at']}): moved outside "
        "the harness"
    )
    # The version itself verifies: by number only the record is checked.
    code, out, _ = reg.cli("verify", v2)
    assert code == 0 and out.strip() == f"verified models:/{reg.name}/{v2} (version {v2}): its record verifies"


def test_a_promoted_version_passes_verify_status_check_and_serve(reg):
    version = reg.add()
    assert reg.cli("promote", "--to", "development", "--version", version)[0] == 0
    code, out, _ = reg.cli("verify", f"models:/{reg.name}@development")
    assert code == 0 and out.strip() == (
        f"verified models:/{reg.name}@development (version {version}): its record verifies, moved there by the harness"
    )
    code, out, _ = reg.cli("status", "--check")
    assert code == 0 and "@development  " in out and " verified " in out
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", f"models:/{reg.name}@development", "--timeout", "300"],
        cwd=reg.project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith(f"serving models:/{reg.name}@development at http://127.0.0.1:"), (
            first + process.stdout.read()
        )
        base_url = first.split(" at ")[1].split()[0]
        with urllib.request.urlopen(f"{base_url}/ping", timeout=30) as response:
            assert response.status == 200
        assert "unverified" not in process.stdout.readline() + process.stdout.readline()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_an_artifact_file_named_like_mlflows_download_note_is_hashed_and_a_swap_is_caught(reg, tmp_path):
    import mlflow

    # The digest leaves out only the note MLflow writes at the top of a registry download.
    folder = tmp_path / "tree"
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "registered_model_meta").write_text("one")
    before = tree_sha256(folder)
    (folder / "registered_model_meta").write_text("name: x")
    assert tree_sha256(folder) == before
    (folder / "code" / "registered_model_meta").write_text("two")
    assert tree_sha256(folder) != before

    # A logged model with such a file, registered with its record: swapping the file afterwards is caught.
    note = tmp_path / "registered_model_meta"
    note.write_text("harmless\n")

    class Reads(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input):
            return model_input

    with mlflow.start_run(experiment_id=reg.store.experiment_id):
        info = mlflow.pyfunc.log_model(
            name="agent",
            python_model=Reads(),
            artifacts={"registered_model_meta": str(note)},
            pip_requirements=["mlflow"],
        )
    model_dir = Path(
        mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri, dst_path=str(tmp_path / "download"))
    )
    assert (model_dir / "artifacts" / "registered_model_meta").is_file()
    version = reg.add(model=(info.model_uri, info.model_id, model_dir))
    assert reg.cli("promote", "--to", "development", "--version", version)[0] == 0
    stored = Path(mlflow.MlflowClient().get_logged_model(info.model_id).artifact_location.removeprefix("file://"))
    (stored / "artifacts" / "registered_model_meta").write_text("EVIL password=hunter2\n")
    code, _, err = reg.cli("promote", "--to", "staging")
    assert code == 1 and "its artifact files differ from the ones that were evaluated (sha256 mismatch)" in err, err
    code, out, _ = reg.cli("verify", f"models:/{reg.name}@development")
    assert code == 1 and "sha256 mismatch" in out
    assert reg.aliases() == {"development": version}


def test_the_ci_recipes_deploy_job_verifies_production_before_its_rollout(reg):
    import yaml

    recipe = yaml.safe_load((REPO / "examples" / "ci" / "quality-gate.yml").read_text(encoding="utf-8"))
    deploy = recipe["jobs"]["deploy"]
    assert deploy["needs"] == "evaluate"
    names = [s.get("name") for s in deploy["steps"]]
    assert names.index("Verify before rollout") < names.index("Roll out")
    command = next(s["run"] for s in deploy["steps"] if s.get("name") == "Verify before rollout")
    (reg.project / ".venv").symlink_to(sys.prefix)  # the job's Install step made this venv
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def step() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", command], cwd=reg.project, env=env, capture_output=True, text=True, timeout=120
        )

    version = reg.add()
    for alias in ("development", "staging", "production"):
        assert reg.cli("promote", "--to", alias, "--version", version)[0] == 0
    done = step()
    assert done.returncode == 0 and f"verified models:/{reg.name}@production (version {version})" in done.stdout, (
        done.stdout + done.stderr
    )
    rogue(reg)
    done = step()
    assert done.returncode == 1 and "moved outside the harness" in done.stdout, done.stdout + done.stderr


def test_bad_references_are_one_line(reg):
    from tests.registry.conftest import one_error_line

    version = reg.add()
    for argv, message in (
        (["verify", "staging"], "'staging' is not a registered version: expected models:/NAME@ALIAS"),
        (["verify", "@nope"], f"model '{reg.name}' has no alias @nope (its aliases: none)"),
        (["verify", "99"], f"model '{reg.name}' has no version 99 (its versions are {version})"),
        (["verify"], f"model '{reg.name}' has no aliases to verify"),
    ):
        code, _, err = reg.cli(*argv)
        assert code == 1 and message in one_error_line(err, "verify"), err
