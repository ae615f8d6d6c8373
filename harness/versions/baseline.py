"""The versions a session evaluates: the candidate and what it is compared against, including the
default baseline, `models:/<model_name>@production`, looked up in the registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from harness import HarnessError, first_line
from harness.records.gate import BASELINE_UNAVAILABLE
from harness.settings import HarnessConfig
from harness.versions.resolve import resolve
from harness.versions.version import Version


def load_versions(
    cfg: HarnessConfig,
    references: Sequence[str] | None = None,
    notes: list[str] | None = None,
    resolver: Callable[[str, Path, str], Version] = resolve,
) -> list[Version]:
    """Resolve the candidate and what it is compared against; labels name them in reports.

    The candidate must load. A baseline that should be compared against but cannot be loaded (a
    configured one, or the default `models:/<model_name>@production` when it exists or when the
    store cannot be reached to check) is one `BASELINE_UNAVAILABLE` line appended to `notes`: the
    session goes on and the gate's `baseline` check fails on it; with `require_baseline` the
    session stops instead. `baseline = "none"` is the explicit opt-out of any baseline.
    """
    notes = notes if notes is not None else []
    references = [r for r in (references or cfg.all_versions) if r.strip().lower() != "none"]
    if len(references) == 1 and not cfg.baseline:
        default = default_baseline(cfg, references[0], notes)
        if default:
            references.append(default)
            notes.append(f"baseline: {default} (the default when no baseline is configured)")
    labels = version_labels(references)
    if any(r.strip().startswith(("models:/", "runs:/")) for r in references):
        from harness.tracking.connection import connect

        try:
            connect(cfg.root)
        except HarnessError:
            if references[0].strip().startswith(("models:/", "runs:/")):
                raise
    versions = [resolver(references[0], cfg.root, labels[0])]
    for ref, label in zip(references[1:], labels[1:]):
        try:
            versions.append(resolver(ref, cfg.root, label))
        except HarnessError as exc:
            if cfg.require_baseline:
                raise HarnessError(f"baseline {ref!r} cannot be loaded and require_baseline is set: {exc}") from None
            notes.append(f"{BASELINE_UNAVAILABLE}{ref!r} could not be loaded ({first_line(exc)}); {BASELINE_FAILS}")
    if cfg.require_baseline and len(versions) < 2:
        raise HarnessError(
            f"require_baseline is set but no baseline is configured (baseline, --baseline or --versions) "
            f"and models:/{cfg.model_name}@production does not exist"
        )
    return versions


BASELINE_FAILS = 'the gate fails on it (baseline = "none" evaluates without a baseline)'


def default_baseline(cfg: HarnessConfig, candidate: str, notes: list[str]) -> str | None:
    """`models:/<model_name>@production` when that alias exists in the tracking store, else None.

    Never creates a store: a SQLite file that does not exist yet has no aliases. A store that
    cannot be reached (or answers anything but "no such model or alias") cannot say whether the
    default baseline exists: that is a `BASELINE_UNAVAILABLE` note, which fails the gate.
    """
    from harness.tracking.aliases import alias_exists
    from harness.tracking.connection import connect, tracking_uri

    reference = f"models:/{cfg.model_name}@production"
    uri = tracking_uri(cfg.root)
    if candidate.strip() == reference or (
        uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///") :]).is_file()
    ):
        return None
    try:
        connect(cfg.root)
        if not alias_exists(cfg.model_name, "production"):  # the first versions of a model have no production yet
            return None
    except Exception as exc:
        notes.append(
            f"{BASELINE_UNAVAILABLE}could not check for the default baseline {reference} ({first_line(exc)}); "
            f"{BASELINE_FAILS}"
        )
        return None
    return reference


def version_labels(references: Sequence[str]) -> list[str]:
    """How reports name each version: candidate and baseline, or candidate and the other references."""
    return ["candidate", "baseline"] if len(references) == 2 else ["candidate", *references[1:]]
