"""The MLflow adapter: the only package that imports mlflow (always lazily), and so the only one
that talks to the tracking store, the model registry and MLflow's tracing.

- `connection`: which store, and failing fast in one line when it cannot be reached;
- `runs`: the evaluation run (params, metrics, per-case table, reports, the sealed record);
- `models`: registering exactly the logged model that was evaluated, and reading a version's record;
- `lock`: the cross-process registry lock every alias move and registration runs under;
- `aliases`: compare-and-set alias moves with a history that survives a crash;
- `policy`: who may move where (`harness promote`, `harness rollback`), checked against the record;
- `verify`: whether an alias or version may be consumed (`harness verify`, `status --check`, `serve`);
- `agents`: models from code, logged models logged and loaded back, `models:/` lookups, MLflow's agent request types;
- `tracing`: answers traced (secrets masked in every span), live trajectories, traces read back;
- `judges`: MLflow's judges as the harness's LLM judges; `scorers`: the harness's scorers as MLflow `@scorer`s.
"""

GATE_TAG = "harness.gate"
RUN_TAG = "harness.eval_run_id"
RECORD_TAG = "harness.gate_record"  # the sealed record (JSON), on the model version and on the eval run
RECORD_SHA_TAG = "harness.gate_record_sha256"
REPORT_TAG = "harness.report_id"  # the report folder's name: `harness log` finds the run it already logged
LATE_LOG_TAG = "harness.late_log"  # a run logged afterwards from a report folder by `harness log`
EXPERIMENT = "harness-evaluations"
