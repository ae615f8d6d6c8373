"""A real SQLite MLflow store shared by the registry tests (one model name per test), a tiny logged
model to register versions of, and the `harness` command run in-process against it."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.project import TOY_GOLDEN


@dataclass
class Store:
    root: Path
    uri: str
    experiment_id: str
    model_uri: str  # a tiny logged pyfunc model; every test version registers it
    model_id: str
    model_dir: Path  # its artifact files, downloaded once


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    import mlflow

    root = tmp_path_factory.mktemp("registry-store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment_id = mlflow.create_experiment("harness-registry-tests", artifact_location=str(root / "artifacts"))

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input: list[str]) -> list[str]:
            return model_input

    with mlflow.start_run(experiment_id=experiment_id):
        info = mlflow.pyfunc.log_model(name="agent", python_model=Echo(), pip_requirements=["mlflow"])
    model_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri, dst_path=str(root / "model")))
    return Store(root, uri, experiment_id, info.model_uri, info.model_id, model_dir)


class Registry:
    """One registered model of the shared store, and a project folder whose pyproject names it."""

    def __init__(self, store: Store, project: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
        import mlflow

        self.store, self.project, self.name, self.capsys = store, project, name, capsys
        self.client = mlflow.MlflowClient(tracking_uri=store.uri, registry_uri=store.uri)
        self.configure()

    def configure(self, promotion: str = "", harness: str = "") -> None:
        text = f'[tool.harness]\nmodel_name = "{self.name}"\ngolden = ["{TOY_GOLDEN}"]\n{harness}\n'
        if promotion:
            text += f"[tool.harness.promotion]\n{promotion}\n"
        (self.project / "pyproject.toml").write_text(text, encoding="utf-8")

    def add(
        self,
        gate: str | None = "passed",
        compared: list[str] | None = None,
        age_h: float = 0.0,
        run_gate: str = "passed",
        metrics: dict[str, float] | None = None,
        model: tuple[str, str, Path] | None = None,
    ) -> str:
        """Register a new version the way the session-finish hook does: an eval run with its sealed
        record, then the version with the same record (`gate=None`: no record at all). `model`:
        (model URI, model id, its downloaded files) instead of the store's tiny model."""
        import mlflow

        from harness.config import load_config
        from harness.seal import GateRecord, golden_digests, harness_version, policy_sha256, tree_sha256

        cfg = load_config(self.project)
        model_uri, model_id, model_dir = model or (self.store.model_uri, self.store.model_id, self.store.model_dir)
        start = int((time.time() - age_h * 3600) * 1000)
        run = self.client.create_run(self.store.experiment_id, start_time=start, tags={"harness.gate": run_gate})
        self.client.log_param(run.info.run_id, "versions", ",".join([f"candidate-of-{self.name}", *(compared or [])]))
        record = GateRecord(
            model_uri=model_uri,
            model_id=model_id,
            artifact_sha256=tree_sha256(model_dir),
            golden=tuple(golden_digests(cfg.golden_paths)),
            policy_sha256=policy_sha256(cfg),
            harness_version=harness_version(),
            cases_evaluated=4,
            cases_in_golden=4,
            baseline=None,
            complete=True,
            blockers=(),
            gate_passed=gate == "passed",
            isolated=True,
            report_id=run.info.run_id,
            metrics=tuple(sorted((metrics or {"correctness": 0.95, "safety": 1.0}).items())),
        )
        self.client.set_tag(run.info.run_id, "harness.gate_record_sha256", record.sha256)
        self.client.set_terminated(run.info.run_id, end_time=start + 1000)
        tags = {"harness.eval_run_id": run.info.run_id}
        if gate is not None:
            tags.update({"harness.gate": gate, "harness.gate_record": record.to_json()})
        for metric, value in (metrics or {"correctness": 0.95, "safety": 1.0}).items():
            tags[f"harness.metric.{metric}"] = f"{value:.4f}"
        mlflow.set_registry_uri(self.store.uri)
        return str(mlflow.register_model(model_uri, self.name, tags=tags).version)

    def run_id(self, version: str) -> str:
        return self.client.get_model_version(self.name, version).tags["harness.eval_run_id"]

    def cli(self, *argv: str) -> tuple[int, str, str]:
        """`harness ARGV` in the project folder: (exit code, stdout, stderr)."""
        from harness.cli import main

        self.capsys.readouterr()
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        return code, out, err

    def aliases(self) -> dict[str, str]:
        return {a: str(v) for a, v in self.client.get_registered_model(self.name).aliases.items()}

    def history(self) -> list[dict]:
        raw = self.client.get_registered_model(self.name).tags.get("harness.alias_history")
        return json.loads(raw) if raw else []

    def snapshot(self) -> tuple:
        """Everything a refused command must leave as it was."""
        model = self.client.get_registered_model(self.name)
        versions = self.client.search_model_versions(f"name = '{self.name}'")
        return (dict(model.aliases), dict(model.tags), sorted((v.version, sorted(v.tags.items())) for v in versions))


@pytest.fixture
def reg(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> Registry:
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.uri)
    for key in ("HARNESS_MODEL_NAME", "HARNESS_PROMOTE_TO"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(store.uri)
    mlflow.set_registry_uri(store.uri)
    name = "m_" + re.sub(r"\W+", "_", request.node.name)[:80]
    return Registry(store, tmp_path, name, capsys)


def one_error_line(err: str, command: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"harness {command}: error: "), lines[0]
    return lines[0]
