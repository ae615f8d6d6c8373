"""Secrets and hostile text: one detector for the safety scorer and every writer, one sanitiser for terminals
and Markdown.

Public API:
- `detect(text, allowed_emails)`: the secrets in a text, each a `Finding(kind, start, end, label)` (verdicts
cached per distinct text);
- `detect_tree(value, allowed_emails)`: the secrets in every string of a JSON-like value;
- `mask(text, allowed_emails)` / `mask_tree(value, allowed_emails)`: masked copies with counts per kind;
- `emails_in(texts)`: the addresses a question names (allowed in its answer);
- `sanitize_terminal(text)`: control characters made visible (`\\x1b`), for terminals, logs and JUnit XML;
- `md_cell(text)`: text safe inside one Markdown table cell;
- `safe(text, asked)`: masked and sanitised, what a terminal may show.
"""

from harness.secrets.detect import Finding, detect, detect_tree, emails_in, strings_in
from harness.secrets.mask import (
    MASK,
    MaskResult,
    TreeMaskResult,
    add_counts,
    mask,
    mask_email,
    mask_tree,
    masked_line,
    safe,
)
from harness.secrets.sanitize import md_cell, sanitize_terminal

__all__ = [
    "MASK",
    "Finding",
    "MaskResult",
    "TreeMaskResult",
    "add_counts",
    "detect",
    "detect_tree",
    "emails_in",
    "mask",
    "mask_email",
    "mask_tree",
    "masked_line",
    "md_cell",
    "safe",
    "sanitize_terminal",
    "strings_in",
]
