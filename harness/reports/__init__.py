"""The reports: files on disk (`files`: results.json, summary.md), the A/B comparison (`comparison`:
comparison.md, comparison.html), latency sections (`latency`), plots, and the parts they share: the
gate decision that opens them (`decision`), how each version was called (`calls`), number formats (`format`)."""
