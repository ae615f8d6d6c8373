"""One sanitiser for terminals and Markdown: control characters made visible, table cells escaped."""

from __future__ import annotations

from harness.secrets import md_cell, sanitize_terminal


def test_control_characters_are_made_visible():
    text = "ok\x1b[31mred\x07bell\rover\u202egnp.exe\ttab\nline"
    out = sanitize_terminal(text)
    assert out == "ok\\x1b[31mred\\x07bell\\x0dover\\u202egnp.exe\ttab\nline"
    assert not any(c in out for c in "\x1b\x07\r\u202e")


def test_md_cell_keeps_one_cell_on_one_line():
    cell = md_cell("a|b\n| injected | row |\r\n`code` <img src=x> \x1b\\")
    assert "\n" not in cell and "\r" not in cell and "\x1b" not in cell
    assert "|" not in cell.replace("\\|", "")
    assert "<img" not in cell and "`" not in cell
