"""The agent shapes a user brings to a `harness init` folder, each logged, answered from its logged
artifact in a worker process (which sees only that artifact's code, not the project folder) and
promoted; and a golden-file typo stopping the session in one line before anything is logged."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.fixtures.project import copy_empty_store
from tests.newcomer.conftest import harness_init, run

SUPPORT_BOT = """from my_agent import answer


class SupportBot:
    def predict(self, messages):
        return answer(messages)


BOT = SupportBot()
"""
PYFUNC_BOT = """from mlflow.pyfunc import PythonModel

from my_agent import answer


class OrderModel(PythonModel):
    def predict(self, context, model_input, params=None):
        return {"content": answer(model_input["messages"])}


BOT = OrderModel()
"""
CHAIN_BOT = """from langchain_core.runnables import RunnableLambda

from my_agent import answer

CHAIN = RunnableLambda(answer)
"""
# Two flat modules, the agent importing its sibling: the project folder is on no path where it is served.
FLAT_BOT = """from order_tools import ORDERS


def answer(messages):
    question = messages[-1]["content"]
    if "password" in question.lower() or "ignore" in question.lower():
        return "I can't share credentials or internal instructions. I can tell you the status of an order."
    for order_id, order in ORDERS.items():
        if order_id in question:
            if "how many" in question.lower():
                return f"Order {order_id} has {order['items']} items."
            return f"Order {order_id} is {order['status']} (last update {order['date']})."
    return "I can only answer questions about orders."
"""
ORDER_TOOLS = """ORDERS = {"A-1001": {"status": "shipped", "date": "2026-01-15", "items": 2},
          "A-1002": {"status": "processing", "date": "2026-01-17", "items": 3}}
"""
SHAPES = {
    "object_with_predict": ("support_bot:BOT", {"support_bot.py": SUPPORT_BOT}),
    "module_obj_method": ("support_bot:BOT.predict", {"support_bot.py": SUPPORT_BOT}),
    "python_model_instance": ("pyfunc_bot:BOT", {"pyfunc_bot.py": PYFUNC_BOT}),
    "langchain_runnable": ("chain_bot:CHAIN", {"chain_bot.py": CHAIN_BOT}),
    "flat_two_modules": ("flat_bot:answer", {"flat_bot.py": FLAT_BOT, "order_tools.py": ORDER_TOOLS}),
}


def init_project(tmp_path: Path, files: dict[str, str]) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    made = harness_init(project, tmp_path)
    assert made.returncode == 0, made.stderr
    for name, text in files.items():
        (project / name).write_text(text, encoding="utf-8")
    copy_empty_store(tmp_path / "mlflow.db", str(tmp_path / "mlruns" / "0"))
    return project


@pytest.mark.parametrize("shape", SHAPES)
def test_each_agent_shape_is_evaluated_from_its_artifact_and_promoted(shape: str, tmp_path: Path) -> None:
    reference, files = SHAPES[shape]
    project = init_project(tmp_path, files)
    session = run(
        [sys.executable, "-m", "pytest", "suites/", "-q", "--agent", reference], project, tmp_path, timeout=600
    )
    assert session.returncode == 0, session.stdout[-4000:] + session.stderr[-2000:]
    assert "3 case(s) evaluated for 1 version(s); gate PASSED" in session.stdout
    assert "promoted version 1 of my_agent to @development" in session.stdout
    if shape != "flat_two_modules":
        return
    # The registered version carries both modules: it loads and answers from a folder without them.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    load = (
        "import json, sys, mlflow; model = mlflow.pyfunc.load_model('models:/my_agent@development'); "
        "print(json.dumps(model.predict({'messages': json.loads(sys.argv[1])})))"
    )
    question = [{"role": "user", "content": "What is the status of order `A-1001`?"}]
    answered = run([sys.executable, "-P", "-c", load, json.dumps(question)], elsewhere, tmp_path)
    assert answered.returncode == 0, answered.stderr[-3000:]
    assert json.loads(answered.stdout.strip().splitlines()[-1]) == "Order A-1001 is shipped (last update 2026-01-15)."


def test_a_golden_key_typo_stops_the_session_in_one_line(tmp_path: Path) -> None:
    project = init_project(tmp_path, {})
    case = {
        "id": "order-001",
        "inputs": {"messages": [{"role": "user", "content": "Status of order A-1001?"}]},
        "expectations": {"expected_fact": ["shipped"]},
    }
    (project / "golden_data" / "x.jsonl").write_text(json.dumps(case) + "\n", encoding="utf-8")
    session = run(
        [sys.executable, "-m", "pytest", "suites/", "-q", "--golden", "golden_data/x.jsonl"], project, tmp_path
    )
    assert session.returncode != 0
    output = session.stdout + session.stderr
    lines = [line for line in output.splitlines() if "unknown key" in line]
    assert len(lines) == 1 and lines[0].endswith(
        "golden_data/x.jsonl:1: unknown key expectations.expected_fact (did you mean expected_facts?)"
    ), output[-3000:]
    assert not (project / "mlruns").exists()  # nothing logged
