"""Answers where analysts work (SPEC §18): a GET URL per question, and tidy tables.

`route`: `GET /api/answers/<endpoint>.json|.csv`, a job made from a URL and held for its
answer; `query`: its parameters, checked as a POST body is; `representation`: its ETag and its
CSV's file name, known before any job; `tidy`: every endpoint's answer as one table (one row a
record, named columns), which `get_results?format=csv` gives too (`app.export`).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Serve the GET answers in front of the job gateway (call it after `routes.init_app`)."""
    # Imported here: app.export (which the route uses) imports this package's `tidy`, and a
    # package's __init__ runs before any of its modules.
    from app.answers.route import AnswerRoute

    app.wsgi_app = AnswerRoute(  # type: ignore[method-assign]
        app.wsgi_app,
        app.extensions["lss.engine"],
        app.extensions["lss.log"],
        wait=app.config["ANSWER_WAIT_S"],
        held=app.extensions["lss.held"],
    )
