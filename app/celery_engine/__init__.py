"""The Celery engine (LSS_BROKER_URL set): jobs run on Celery workers, their state lives in Redis.
`engine` is what the web process uses, `worker` what `make worker` runs."""
