"""Golden files as they arrive in practice: huge, Windows-saved, broken.

Each gives a clear line-numbered error or is handled; no case is ever skipped silently. (That
the number of cases run is printed and matches the file is checked end to end in
test_agent_faults.py, on a file with a BOM and CRLF line endings.)
"""

import json
import tracemalloc

import pytest

from harness import HarnessError
from harness.golden import file_digest, iter_golden, load_golden
from tests.reliability.conftest import case, write_golden


def test_100_mb_golden_file_streams_in_bounded_memory(tmp_path):
    path = tmp_path / "big.jsonl"
    filler = "y" * 10_000  # long lines: 100 MB in ~10k cases keeps the test fast
    with path.open("w", encoding="utf-8") as fh:
        n = 0
        while fh.tell() < 100 * 1024 * 1024:
            n += 1
            fh.write(json.dumps(case(f"big-{n}", f"question {n}", ["x"], expected_response=filler)) + "\n")
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_golden(path))
        file_digest(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    assert peak < 5 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while streaming a 100 MB file"


def test_bom_crlf_blank_lines_and_no_final_newline_keep_every_case(tmp_path):
    records = [case(f"c{i}", f"q{i}?") for i in range(5)]
    path = write_golden(tmp_path / "win.jsonl", records, bom=True, newline="\r\n")
    path.write_bytes(
        path.read_bytes().replace(b"\r\n", b"\r\n\r\n", 1).rstrip(b"\r\n")
    )  # a blank line; no final newline
    cases = load_golden([path])
    assert [c.id for c in cases] == [r["id"] for r in records]
    assert cases[0].question == "q0?" and not cases[-1].question.endswith("\r")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"id": "a", "inputs": {"messages": [{"role": "user", "content": "caf\xe9"}]}}\n',
            r"bad\.jsonl:2: not valid UTF-8 \(byte 0xe9",
        ),
        (b'{"id": "a", "inputs": {"messages": [}\n', r"bad\.jsonl:2: not valid JSON"),
        (b'{"inputs": {"messages": [{"role": "user", "content": "q"}]}}\n', r"bad\.jsonl:2: 'id' is missing"),
        (b'{"id": "a"}\n', r"bad\.jsonl:2: 'inputs' is missing or not an object \(case a\)"),
        (
            b'{"id": "a", "inputs": {"messages": []}}\n',
            r"bad\.jsonl:2: inputs\.messages must be a non-empty list \(case a\)",
        ),
        (
            b'{"id": "a", "inputs": {"messages": [{"role": "user"}]}}\n',
            r"bad\.jsonl:2: inputs\.messages\[0\] must be an object with a string 'content'",
        ),
        (
            b'{"id": "ok-1", "inputs": {"messages": [{"role": "user", "content": "q"}]}}\n',
            r"bad\.jsonl:2: duplicate case id 'ok-1' \(first at .*bad\.jsonl:1\)",
        ),
        (b"[1, 2]\n", r"bad\.jsonl:2: a case must be a JSON object"),
    ],
)
def test_broken_lines_fail_with_file_and_line(tmp_path, body, message):
    first = json.dumps(case("ok-1", "fine?")).encode() + b"\r\n"
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + first + body + json.dumps(case("ok-3", "after?")).encode() + b"\n")
    with pytest.raises(HarnessError, match=message):
        load_golden([path])


def test_empty_file_is_an_error_not_an_empty_pass(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"\xef\xbb\xbf\r\n\n")
    with pytest.raises(HarnessError, match="no cases found"):
        load_golden([path])
