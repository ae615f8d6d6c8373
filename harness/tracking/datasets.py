"""Golden data kept as MLflow evaluation datasets (`mlflow.genai.datasets`), read and written as golden lines.

A golden line maps onto one dataset record: a case's `inputs` and `expectations` as they are (they follow
`mlflow.genai.evaluate`'s naming), a conversation's turns as `inputs.turns` and `expectations.turns`, and
what MLflow has no field for (the case id, its tags, params, history and position) as record tags under
`harness.`. MLflow keeps one record per distinct `inputs`, so a push replaces every record of the dataset.
Parsing and validating the lines is the golden loader's job (`harness.golden`); this module only moves them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness import HarnessError, first_line
from harness.settings import DATASET_SCHEME as SCHEME

_ID, _TAGS, _PARAMS, _HISTORY, _ORDER = (f"harness.{k}" for k in ("id", "tags", "params", "history", "order"))


@dataclass(frozen=True)
class DatasetLines:
    """A dataset's records as golden lines, in golden order, each with where it came from (for errors)."""

    name: str
    dataset_id: str
    lines: tuple[tuple[str, dict[str, Any]], ...]


def to_record(line: dict[str, Any], order: int) -> dict[str, Any]:
    """The MLflow dataset record of a (validated) golden line."""
    tags = {_ID: line["id"], _ORDER: str(order)}
    if line.get("tags"):
        tags[_TAGS] = ",".join(line["tags"])
    if line.get("params"):
        tags[_PARAMS] = json.dumps(line["params"], sort_keys=True)
    if "turns" in line:
        tags[_HISTORY] = line.get("history", "agent")
        inputs = {"turns": [turn.get("inputs") for turn in line["turns"]]}
        expectations = {"turns": [turn.get("expectations", {}) for turn in line["turns"]]}
        return {"inputs": inputs, "expectations": expectations, "tags": tags}
    return {"inputs": line["inputs"], "expectations": line.get("expectations", {}), "tags": tags}


def to_line(record: Any) -> dict[str, Any]:
    """The golden line of an MLflow dataset record; a record written elsewhere is keyed by its record id."""
    tags = record.tags or {}
    line: dict[str, Any] = {"id": tags.get(_ID) or record.dataset_record_id}
    inputs, expectations = dict(record.inputs or {}), dict(record.expectations or {})
    if set(inputs) == {"turns"} and isinstance(inputs["turns"], list):
        listed = expectations.get("turns")
        expected: list[Any] = listed if isinstance(listed, list) else []
        line["turns"] = [
            {"inputs": turn, "expectations": expected[k] if k < len(expected) else {}}
            for k, turn in enumerate(inputs["turns"])
        ]
        line["history"] = tags.get(_HISTORY, "agent")
    else:
        line["inputs"], line["expectations"] = inputs, expectations
    if tags.get(_TAGS):
        line["tags"] = tags[_TAGS].split(",")
    if tags.get(_PARAMS):
        line["params"] = json.loads(tags[_PARAMS])
    return line


def _order(record: Any) -> tuple[int, int, str]:
    order = (record.tags or {}).get(_ORDER, "")
    return (int(order) if order.isdigit() else 1 << 62, record.created_time or 0, record.dataset_record_id)


def _find(client: Any, name: str) -> Any | None:
    quoted = json.dumps(name)  # MLflow's filter grammar takes a double-quoted string
    try:
        found = client.search_datasets(filter_string=f"name = {quoted}", max_results=2)
    except Exception as exc:
        raise HarnessError(
            f"{SCHEME}{name}: the tracking store cannot list evaluation datasets ({first_line(exc)})"
        ) from None
    if len(found) > 1:
        raise HarnessError(f"{SCHEME}{name}: several evaluation datasets have this name; rename all but one")
    return found[0] if found else None


def _client() -> Any:
    import mlflow
    from mlflow.tracking._tracking_service.utils import is_tracking_uri_set

    if not is_tracking_uri_set():
        from pathlib import Path

        from harness.tracking.connection import connect

        connect(Path.cwd())
    return mlflow.MlflowClient()


def read_dataset(name: str) -> DatasetLines:
    """Every record of the dataset named `name`, as golden lines."""
    client = _client()
    dataset = _find(client, name)
    if dataset is None:
        raise HarnessError(f"{SCHEME}{name}: no evaluation dataset of this name in {_uri()}")
    where = f"{SCHEME}{name} record"
    lines = tuple(
        (f"{where} {record.dataset_record_id}", to_line(record)) for record in sorted(dataset.records, key=_order)
    )
    return DatasetLines(name, dataset.dataset_id, lines)


def write_dataset(name: str, lines: list[dict[str, Any]], experiment: str) -> str:
    """Make the dataset `name` hold exactly `lines` (created in `experiment` if new); its id."""
    client = _client()
    dataset = _find(client, name)
    if dataset is None:
        import mlflow

        experiment_id = mlflow.set_experiment(experiment).experiment_id
        dataset = client.create_dataset(name=name, experiment_id=[experiment_id])
    elif dataset.records:
        dataset.delete_records([record.dataset_record_id for record in dataset.records])
    dataset.merge_records([to_record(line, k) for k, line in enumerate(lines)])
    return str(dataset.dataset_id)


def _uri() -> str:
    import mlflow

    return str(mlflow.get_tracking_uri())
