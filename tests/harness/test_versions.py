import pytest

from harness import HarnessError
from harness.versions.resolve import resolve
from harness.versions.version import AgentOutputError, normalize_output

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.mark.parametrize(
    "reference,kind",
    [
        ("tests.fixtures.toy_agents:good", "callable"),
        ("tests.fixtures.toy_agents:dict_answer", "callable"),
        ("tests.fixtures.toy_agents:CHAT_AGENT", "chat_agent"),
        ("tests.fixtures.toy_agents:RESPONSES_AGENT", "responses_agent"),
        ("tests.fixtures.toy_agents:GRAPH", "langgraph"),
        ("tests.fixtures.agent_shapes:SUPPORT_BOT", "predict"),
        ("tests.fixtures.agent_shapes:SupportBot", "predict"),
        ("tests.fixtures.agent_shapes:SUPPORT_BOT.predict", "callable"),
        ("tests.fixtures.agent_shapes:PYTHON_MODEL", "python_model"),
        ("tests.fixtures.agent_shapes:RUNNABLE", "runnable"),
    ],
)
def test_every_agent_kind_answers_through_one_adapter(reference, kind):
    version = resolve(reference)
    assert version.kind == kind
    text, metadata = version.predict(MESSAGES)
    assert text == "The capital of France is Paris."
    assert isinstance(metadata, dict)


def test_models_from_code_file(tmp_path):
    path = tmp_path / "agent_file.py"
    path.write_text(
        "from mlflow.models import set_model\n"
        "def answer(messages):\n    return 'from file: ' + messages[-1]['content']\n"
        "set_model(answer)\n"
    )
    version = resolve(str(path))
    assert version.predict(MESSAGES)[0] == "from file: What is the capital of France?"
    assert version.model_code_path == str(path)


@pytest.mark.parametrize(
    "reference,message",
    [
        ("no_such_module:AGENT", "module 'no_such_module' not found"),
        ("tests.fixtures.toy_agents:missing", "has no attribute 'missing'"),
        ("os.system('touch /tmp/pwned')", "is not 'module.path:attr'"),
        ("$(touch /tmp/pwned):x", "is not 'module.path:attr'"),
        ("missing_file.py", "file not found"),
        ("models:/bad name", "expected 'models:/name@alias'"),
        (
            "tests.fixtures.agent_shapes:NOT_AN_AGENT",
            "names a dict, which the harness cannot call; it must name a ChatAgent, ",
        ),
        ("tests.fixtures.toy_agents:time", "names a module, which the harness cannot call"),
    ],
)
def test_bad_references_are_one_line_errors(reference, message):
    with pytest.raises(HarnessError, match=message) as info:
        resolve(reference)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "raw,text",
    [
        ("plain", "plain"),
        ({"content": "c"}, "c"),
        ({"messages": [{"role": "assistant", "content": "m"}], "custom_outputs": {"domains": ["cost"]}}, "m"),
        ({"output": [{"type": "message", "content": [{"type": "output_text", "text": "r"}]}]}, "r"),
        ({"choices": [{"message": {"content": "o"}}]}, "o"),
        (["single"], "single"),
    ],
)
def test_normalize_output_shapes(raw, text):
    assert normalize_output(raw)[0] == text


@pytest.mark.parametrize(
    "raw,message",
    [
        (None, "returned None"),
        (42, "returned int"),
        ({"content": 5}, "content is int"),
        ({"foo": 1}, "without 'content'"),
    ],
)
def test_normalize_output_rejects_non_answers(raw, message):
    with pytest.raises(AgentOutputError, match=message):
        normalize_output(raw)
