"""The whole story, as a new user tells it: evaluate two variants (the session-finish hook registers
each and moves @development), promote the first to staging and production, promote the second,
roll back; `harness history` tells it all and `models:/<name>@production` answers accordingly."""

from __future__ import annotations

import json

import mlflow

from tests.fixtures.project import TOY_TABLES, WITHOUT_LATENCY, make_project

VARIANT_B = '''"""Variant B of the toy agent: same facts, its own wording."""
from mlflow.models import set_model
from mlflow.pyfunc import ChatAgent
from mlflow.types.agent import ChatAgentMessage, ChatAgentResponse

from tests.fixtures.toy_agents import good


class VariantB(ChatAgent):
    def predict(self, messages, context=None, custom_inputs=None):
        text = "Variant B says: " + good([m.model_dump() for m in messages])
        return ChatAgentResponse(messages=[ChatAgentMessage(role="assistant", content=text, id="1")])


set_model(VariantB())
'''


def evaluate_and_finish(project, uri, agent=None):
    """`pytest suites/` for one session: evaluate, then the session-finish hook registers and aliases."""
    result = project.pytest(*(["--agent", agent] if agent else []), MLFLOW_TRACKING_URI=uri)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout.splitlines()


def test_two_variants_promoted_and_rolled_back(store, tmp_path, monkeypatch, capsys):
    from harness.cli import main

    project = make_project(
        tmp_path,
        tables=TOY_TABLES + "[tool.harness.promotion]\nrequire_fresh_eval_hours = 24\n",
        ignore_suites=WITHOUT_LATENCY,
    )
    (project.root / "variant_b.py").write_text(VARIANT_B, encoding="utf-8")
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.uri)  # the shared test store: its tables exist already

    def harness(*argv):
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    assert any(
        "promoted version 1 of toy_agent to @development" in line for line in evaluate_and_finish(project, store.uri)
    )
    harness("promote", "--to", "staging")
    harness("promote", "--to", "production")
    # Variant B is compared against production by default: its evaluation is the fresh one production needs.
    assert any(
        "promoted version 2 of toy_agent to @development" in line
        for line in evaluate_and_finish(project, store.uri, "variant_b.py")
    )
    harness("promote", "--to", "staging")
    harness("promote", "--to", "production")
    assert "back to version 1 (was version 2)" in harness(
        "rollback", "production", "--reason", "B's wording confused users"
    )

    client = mlflow.MlflowClient(tracking_uri=store.uri, registry_uri=store.uri)
    history = [
        (e["alias"], e["from"], e["to"], e["action"])
        for e in json.loads(client.get_registered_model("toy_agent").tags["harness.alias_history"])
    ]
    assert history == [
        ("development", None, "1", "evaluation"),
        ("staging", None, "1", "promote"),
        ("production", None, "1", "promote"),
        ("development", "1", "2", "evaluation"),
        ("staging", "1", "2", "promote"),
        ("production", "1", "2", "promote"),
        ("production", "2", "1", "rollback"),
    ]
    table = harness("history").splitlines()
    assert len(table) == 3 + len(history) and "B's wording confused users" in table[-1]
    status = {line.split()[0]: line.split() for line in harness("status").splitlines()[3:6]}
    assert [status[a][1] for a in ("@development", "@staging", "@production")] == ["2", "2", "1"]

    mlflow.set_tracking_uri(store.uri)
    model = mlflow.pyfunc.load_model("models:/toy_agent@production")
    answer = model.predict({"messages": [{"role": "user", "content": "Name the largest ocean."}]})["messages"][-1][
        "content"
    ]
    assert "Pacific" in answer and "Variant B" not in answer  # version 1, as the history says
