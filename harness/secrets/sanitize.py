"""Text from an agent or a golden file made safe to show: on a terminal (and so CI logs, JUnit XML) and in a
Markdown table cell.

An answer may hold terminal escapes (ESC, BEL, a carriage return that overwrites the line) or
bidirectional overrides that reorder what a reader sees; they are shown as visible escapes
(`\\x1b`, `\\u202e`) instead of acting. Escaping of secrets is not done here: see `detect.mask`.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidi embedding/override/isolate characters.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
LINE_BREAK = re.compile(r"\r\n|[\n\r\u2028\u2029\x85]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize_terminal(text: object) -> str:
    """`text` with every control character but newline and tab written as a visible escape (`\\x1b`)."""
    return CONTROL.sub(_visible, str(text))


def md_cell(text: object) -> str:
    """Text safe inside one Markdown table cell: one line, no `|` that ends the cell, no code span or HTML tag."""
    one_line = LINE_BREAK.sub(" ", str(text))
    cell = sanitize_terminal(one_line).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")
    return cell.replace("<", "&lt;").replace(">", "&gt;")
