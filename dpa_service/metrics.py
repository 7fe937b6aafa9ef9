"""The service's Prometheus series that code records as it works (counters, histograms).

They live in prometheus-client's registry of this process; each API replica serves its own at
`/metrics` and each worker at its metrics port (DPA_METRICS_PORT). Figures read at scrape time
(the converter pool, queue depths, pending archive objects) are collected by the composition
layer (`runtime.MetricsCollector`).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60)

GENERATION_SECONDS = Histogram(
    "dpa_generation_seconds",
    "Making one DPA version: render, convert to PDF/A, record (seconds)",
    buckets=_LATENCY_BUCKETS,
)
SIGNING_SECONDS = Histogram(
    "dpa_signing_seconds",
    "Signing steps: the controller's signature (sign) and the countersignature with seal and "
    "archive staging (complete), in seconds",
    ["step"],
    buckets=_LATENCY_BUCKETS,
)
JOB_RUNS = Counter(
    "dpa_job_runs_total", "Background job runs by task and outcome", ["task", "outcome"]
)
JOB_FAILURES = Counter(
    "dpa_job_failures_total", "Background job runs that failed, by task", ["task"]
)
WEBHOOK_DELIVERIES = Counter(
    "dpa_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, retry, failed)",
    ["outcome"],
)
HTTP_REQUESTS = Counter(
    "dpa_http_requests_total", "HTTP requests answered, by method and status", ["method", "status"]
)

TASKS = (
    "expire",
    "complete_stuck",
    "reminders",
    "mail",
    "archived_events",
    "webhooks",
    "audit_checkpoints",
    "reissue",
    "purge_idempotency_keys",
    "archive",
    "sweep",
)
WEBHOOK_OUTCOMES = ("delivered", "retry", "failed")

# Every series exists from the start (at zero), so dashboards and alerts see it before it moves.
for _task in TASKS:
    JOB_FAILURES.labels(_task)
    for _outcome in ("ok", "failed"):
        JOB_RUNS.labels(_task, _outcome)
for _outcome in WEBHOOK_OUTCOMES:
    WEBHOOK_DELIVERIES.labels(_outcome)
for _step in ("sign", "complete"):
    SIGNING_SECONDS.labels(_step)
