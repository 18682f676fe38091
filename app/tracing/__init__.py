"""Following one request: its id, the lines it and its job leave in the log, its count.

`context` holds what a thread works for right now (a request, or a job and the request that
submitted it), which every log line of that thread carries; `ids` takes a client's
`X-Request-ID` or makes one; `lines` writes a log line as text or as JSON; `counts` keeps the
answers counted in plain integers (read by `app.metrics`, which folds them into Prometheus's);
`layer` is the WSGI layer in front of everything that binds a request's context, echoes its id
and counts its answer. `context`, `ids`, `lines` and `counts` import neither Flask nor an
engine: the engines and the Celery worker use them too.
"""
