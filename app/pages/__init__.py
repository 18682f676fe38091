"""The web pages: the dashboard, a page per state, the job monitor and the interactive API docs.

The pages are static HTML shells; their scripts get every number through the public job API
(submit, then poll), as any client would. Every script, style and map shape they load is vendored
under `static/vendor/` and served by this app: no page loads anything from another host, and the
Content-Security-Policy header of each page says so to the browser too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, send_from_directory

STATIC = Path(__file__).resolve().parent / "static"

#: Where a page may load from: this server only. Vega compiles its expressions with `Function`
#: ('unsafe-eval'); vega-embed and swagger-ui set inline styles.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.context_processor
def dataset_banner() -> dict[str, Any]:
    """What every page's banner says of the loaded data (the dataset of /api/health): which kind
    it is, the span of its years and its sha256; and the CDC's footnote of a withheld value."""
    described = current_app.extensions["lss.engine"].dataset.describe()
    first, last = described["years"] or (None, None)
    span = str(first) if first == last else f"{first}\u2013{last}"  # an en dash, as in print
    years = "no dated rows" if first is None else span
    return {
        "banner": {
            "synthetic": described["synthetic"],
            "source": "synthetic sample" if described["synthetic"] else "CDC BRFSS",
            "years": years,
            "sha256": described["sha256"],
            "footnotes": json.dumps(described["suppression_footnotes"]),
        }
    }


def _page(template: str, status: int = 200, **context: object) -> Response:
    """A rendered page with the headers every page carries."""
    response = Response(render_template(template, **context), status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # nosniff comes with every answer (app.policy.gate); pages also keep their address to this
    # server, and are never framed (older browsers ignore frame-ancestors).
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.get("/")
def dashboard() -> Response:
    """Pick a question: the map of state means, the ranking and the national figure."""
    return _page("dashboard.html", page="dashboard")


# merge_slashes=False: a name or file name starting with "/" is not found, rather than redirected.
@bp.get("/pages/static/<path:filename>", merge_slashes=False)
def static(filename: str) -> Response:
    """The pages' own scripts and styles, and the vendored libraries and map shapes."""
    return send_from_directory(STATIC, filename)


@bp.get("/states/<name>", merge_slashes=False)
def state(name: str) -> Response:
    """One location against the national figure, and its breakdown by category."""
    if name not in current_app.extensions["lss.engine"].dataset.locations:
        return _page("missing.html", 404, page="state", name=name)
    return _page("state.html", page="state", name=name)


@bp.get("/jobs")
def jobs() -> Response:
    """The live job monitor."""
    return _page("jobs.html", page="jobs")


@bp.get("/api/docs")
def docs() -> Response:
    """Interactive documentation of /api/openapi.json (swagger-ui, vendored)."""
    return _page("docs.html", page="docs")


def init_app(app: Flask) -> None:
    """Serve the pages and their static files."""
    app.register_blueprint(bp)
