"""Prometheus metrics (SPEC §17): what the engines count, and `GET /metrics`.

`instruments` defines the metrics and the observer the engines report to; `folder` keeps the
per-run folder of prometheus_client's multiprocess mode, through which `GET /metrics` sums every
server process; `exposition` serves it, with the figures read when it is scraped (pending jobs,
stored jobs, result files, free disk, the build and the dataset); `worker` serves a Celery
worker's own. How they fit together: docs/operating.md.
"""
