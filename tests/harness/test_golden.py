import json

import pytest

from harness import HarnessError
from harness.golden import iter_golden, load_golden

GOOD = {
    "id": "c1",
    "inputs": {"messages": [{"role": "user", "content": "hi"}]},
    "expectations": {"expected_facts": ["x"]},
    "tags": ["smoke"],
}


def write_lines(path, lines, newline="\n", bom=False):
    data = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return path


def test_loads_cases_with_bom_and_crlf(tmp_path):
    second = dict(GOOD, id="c2")
    path = write_lines(tmp_path / "g.jsonl", [json.dumps(GOOD), "", json.dumps(second)], newline="\r\n", bom=True)
    cases = load_golden([path])
    assert [c.id for c in cases] == ["c1", "c2"]
    assert cases[0].question == "hi" and cases[0].tags == ["smoke"]
    assert cases[1].source == f"{path}:3"


@pytest.mark.parametrize(
    "line,message",
    [
        ("{not json", ":1: not valid JSON"),
        (json.dumps({"id": "c1"}), ":1: 'inputs' is missing"),
        (json.dumps({"inputs": GOOD["inputs"]}), ":1: 'id' is missing"),
        (
            json.dumps(dict(GOOD, expectations={"expected_facts": "x"})),
            ":1: expectations.expected_facts must be a list",
        ),
        (json.dumps(dict(GOOD, inputs={"messages": [{"role": "robot", "content": "x"}]})), "role must be one of"),
        (json.dumps(dict(GOOD, tags=["has space"])), "to work as a pytest marker"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = write_lines(tmp_path / "g.jsonl", [line])
    with pytest.raises(HarnessError, match=message) as info:
        load_golden([path])
    assert str(info.value).startswith(str(path))


def test_duplicate_ids_across_files(tmp_path):
    a = write_lines(tmp_path / "a.jsonl", [json.dumps(GOOD)])
    b = write_lines(tmp_path / "b.jsonl", [json.dumps(GOOD)])
    with pytest.raises(HarnessError, match=rf"b.jsonl:1: duplicate case id 'c1' \(first at {a}:1\)"):
        load_golden([a, b])


def test_malformed_utf8_is_line_numbered(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"id": "\xff"}\n')
    with pytest.raises(HarnessError, match=r":2: not valid UTF-8 \(byte 0xff"):
        list(iter_golden(path))


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(HarnessError, match="cannot open golden file"):
        load_golden([tmp_path / "nope.jsonl"])
    empty = write_lines(tmp_path / "e.jsonl", [""])
    with pytest.raises(HarnessError, match="no cases found"):
        load_golden([empty])


@pytest.mark.parametrize(
    "record,message",
    [
        (
            dict(GOOD, expectations={"expected_fact": ["x"]}),
            ":1: unknown key expectations.expected_fact (did you mean expected_facts?)",
        ),
        (dict(GOOD, tag=["smoke"]), ":1: unknown key tag (did you mean tags?)"),
        (
            dict(GOOD, inputs={"messages": GOOD["inputs"]["messages"], "mesages": []}),
            ":1: unknown key inputs.mesages (did you mean messages?)",
        ),
        (dict(GOOD, history="sent"), ":1: unknown key history (known keys: id, inputs, expectations, tags, params)"),
        (
            {"id": "conv", "histroy": "sent", "turns": [{"inputs": GOOD["inputs"]}]},
            ":1: unknown key histroy (did you mean history?)",
        ),
        (
            {"id": "conv", "turns": [{"inputs": GOOD["inputs"], "expectations": {"guideline": ["x"]}}]},
            ":1: unknown key turns[0].expectations.guideline (did you mean guidelines?)",
        ),
    ],
)
def test_unknown_keys_name_the_closest_known_one(tmp_path, record, message):
    path = write_lines(tmp_path / "x.jsonl", [json.dumps(record)])
    with pytest.raises(HarnessError) as info:
        load_golden([path])
    assert str(info.value) == f"{path}{message}"


def test_a_failed_follow_up_under_history_agent_hints_at_history_sent(tmp_path):
    from harness.records.results import CaseResult
    from harness.reports.terminal import explain_score
    from harness.scorers.base import Score
    from harness.versions.version import AgentOutput

    turns = [
        {"inputs": {"messages": [{"role": "user", "content": q}]}, "expectations": {"expected_facts": ["2026-01-15"]}}
        for q in ("Status of order A-1001?", "And when was it updated?")
    ]
    missing = {"correctness": Score("correctness", 0.0, False, "missing 1 of 1 expected facts: 2026-01-15")}
    for history, hinted in (("agent", [False, True]), ("sent", [False, False])):
        path = write_lines(
            tmp_path / f"{history}.jsonl", [json.dumps({"id": "conv", "history": history, "turns": turns})]
        )
        lines = [
            explain_score(CaseResult(case, AgentOutput("I don't know."), missing), "correctness")
            for case in load_golden([path])
        ]
        assert ['a stateless agent needs "history": "sent"' in line for line in lines] == hinted, lines
        assert all("\n" not in line and line.count("missing 1 of 1") == 1 for line in lines)
