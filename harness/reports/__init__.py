"""Report parts shared by summary.md, comparison.md, comparison.html and results.json: the gate
decision that opens them (`decision`), how each version was called (`calls`), number formats (`format`).
The files themselves are written by `harness.report` and `harness.comparison_report`."""
