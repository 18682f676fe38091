"""What the tests share beside their fixtures: real server processes (`servers`), real Redis and
Celery workers (`celery_stack`), a scripted HTTP server for the client's faults
(`scripted_server`), the independent reference answers (`reference`) and the end-to-end job mix
(`e2e`)."""
