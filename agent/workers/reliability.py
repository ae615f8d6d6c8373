"""The reliability worker: failed job runs per day, and how reliable every other job was."""

from __future__ import annotations

from datetime import date
from typing import Any

from agent.data import anomalies as A
from agent.figures import pct
from agent.tools import reliability
from agent.workers.findings import Findings, window


def reliability_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    acc = Findings("reliability")
    ent = intent.get("entities") or {}
    job = ent.get("job")
    s, e, phrase = window(intent, ref)
    if job and ent.get("job_unknown"):
        acc.use(reliability.job_failures_by_day(s, e, job, store=store))
        acc.sentences.append(
            f"I found no runs of a job named {job} in job_runs {phrase}; known jobs: {', '.join(A.JOBS)}."
        )
        acc.vague, acc.confidence = "I found no runs of that job.", 0.5
        return acc.out()
    rows = acc.use(reliability.job_failures_by_day(s, e, job, store=store)).rows
    failing = [r for r in rows if r["failed"]]
    for r in failing[:3]:
        acc.sentences.append(
            f"Job {r['job_name']} failed {r['failed']} of its {r['runs']} runs on {r['day'].isoformat()} "
            f"({pct(r['failed'] / r['runs'], 1)}), with {r['top_error']}."
        )
    if failing:
        acc.found = failing[0]["failed"] >= 3
        acc.focus_date = failing[0]["day"].isoformat()
        acc.confidence = 0.9
        if not job:
            rates = acc.use(reliability.job_success_rates(A.START_DATE, ref, store=store)).rows
            others = [r for r in rates if r["job_name"] != failing[0]["job_name"]]
            if others:
                lo = min(others, key=lambda r: r["success_rate"])
                acc.sentences.append(
                    f"Every other job succeeded in at least {pct(lo['success_rate'], 1)} of its runs between "
                    f"{A.START_DATE.isoformat()} and {ref.isoformat()} (lowest: {lo['job_name']})."
                )
        acc.vague = "One job had some failed runs."
    else:
        runs = sum(r["runs"] for r in rows)
        who = f"Job {job}" if job else "Every job"
        if runs == 1:
            acc.sentences.append(f"{who} succeeded in its only run {phrase}; no failures.")
        elif runs:
            acc.sentences.append(f"{who} succeeded in all {runs} runs {phrase}; no failures.")
        else:
            acc.sentences.append(f"No job runs{' of ' + job if job else ''} {phrase}.")
        acc.vague = "Jobs ran normally."
        if intent.get("date"):
            acc.focus_date = intent["date"]
    return acc.out()
