import json

import pytest

from harness import HarnessError
from harness.golden import iter_golden, load_golden

GOOD = {"id": "c1", "inputs": {"messages": [{"role": "user", "content": "hi"}]}, "expectations": {"expected_facts": ["x"]}, "tags": ["smoke"]}


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


@pytest.mark.parametrize("line,message", [
    ("{not json", ":1: not valid JSON"),
    (json.dumps({"id": "c1"}), ":1: 'inputs' is missing"),
    (json.dumps({"inputs": GOOD["inputs"]}), ":1: 'id' is missing"),
    (json.dumps(dict(GOOD, expectations={"expected_facts": "x"})), ":1: expectations.expected_facts must be a list"),
    (json.dumps(dict(GOOD, inputs={"messages": [{"role": "robot", "content": "x"}]})), "role must be one of"),
    (json.dumps(dict(GOOD, tags=["has space"])), "to work as a pytest marker"),
])
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
