"""Section: one GET per answer (SPEC §18), with wrk: the GET answer path's jobs/s beside the
POST + poll path's, and a warm ETag path (the 304s an HTTP cache in front would get), the three
loops on one server, in interleaved slices."""

from __future__ import annotations

import http.client
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import orjson

from bench import point, wrk
from bench.markdown import columns, ratio
from bench.point import Point, Slice
from bench.section import Section, Target
from bench.server import BUNDLED, ROOT, MemorySampler, Server, running, service_argv
from bench.session import Session

#: wrk's connections (one per thread) for each loop.
CONNECTIONS = 16
ANSWER_SCRIPT = ROOT / "bench" / "answer.lua"
REVALIDATE_SCRIPT = ROOT / "bench" / "revalidate.lua"
POST, GET, ETAG = "POST + poll", "GET answer", "GET, warm ETag (304)"

Loop = Callable[[Server, float], Slice]


def answer_plan(post_plan: Path, path: Path) -> Path:
    """The questions of the POST loop's plan (`endpoint<TAB>JSON body` a line) as the paths and
    queries of their GET answers, one a line, in the same order."""
    lines = []
    for line in post_plan.read_text(encoding="utf-8").splitlines():
        endpoint, body = line.split("\t", 1)
        query = urlencode(orjson.loads(body), quote_via=quote)
        lines.append(f"/api/answers/{endpoint}.json?{query}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def etag_plan(url: str, get_plan: Path, path: Path) -> Path:
    """The GET plan with each answer's ETag after a tab, asked of the server at `url` (one job
    each, now, so that the loop's requests are all revalidations)."""
    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    lines = []
    try:
        for target in get_plan.read_text(encoding="utf-8").splitlines():
            connection.request("GET", target)
            response = connection.getresponse()
            response.read()
            tag = response.getheader("ETag")
            if response.status != 200 or not tag:
                raise RuntimeError(f"GET {target[:80]} answered {response.status} without a tag")
            lines.append(f"{target}\t{tag}")
    finally:
        connection.close()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def interleaved(
    server: Server, loops: Mapping[str, Loop], rounds: int, seconds: float, warm_up_s: float = 1.0
) -> dict[str, Point]:
    """Each loop against one server: a warm-up each, then slices in turn (A B C, C B A, ...)."""
    sampler = MemorySampler(server)

    def one(name: str, length: float) -> Slice:
        with sampler.measuring():
            return loops[name](server, length)

    warm = {name: one(name, warm_up_s) for name in loops}
    slices: dict[str, list[Slice]] = {name: [] for name in loops}
    names = list(loops)
    for number in range(rounds):
        for name in names if number % 2 == 0 else names[::-1]:
            slices[name].append(one(name, seconds / rounds))
    return {
        name: replace(Point.of(server, slices[name], warm[name], sampler.peak), name=name)
        for name in loops
    }


class GetAnswers(Section):
    """The service with its defaults under three wrk loops: POST + poll, GET, GET + ETag."""

    name = "get-answers"
    title = "One GET per answer (wrk): GET answers, POST + poll, a warm ETag"

    def __init__(self) -> None:
        self.points: dict[str, Point] = {}

    def measure(self, session: Session) -> None:
        if not wrk.installed():
            session.note("wrk is not installed (apt-get install wrk): no GET answer figures")
            return
        post_plan = wrk.write_plan(session.plan, session.workdir / "plan.tsv")
        get_plan = answer_plan(post_plan, session.workdir / "answers.tsv")
        session.log(f"{self.title}: {CONNECTIONS} connections each")
        with running("service", service_argv(), BUNDLED, {}, session.workdir) as server:
            tags = etag_plan(server.url, get_plan, session.workdir / "etags.tsv")
            loops = {
                POST: wrk.client(CONNECTIONS, post_plan),
                GET: wrk.client(CONNECTIONS, get_plan, ANSWER_SCRIPT),
                ETAG: wrk.client(CONNECTIONS, tags, REVALIDATE_SCRIPT),
            }
            self.points = interleaved(server, loops, session.rounds, session.seconds)
        for name, p in self.points.items():
            session.log(f"{name}: {p.jobs_per_s:,.0f}/s, p99 {p.p99_ms:.1f} ms, {p.bad} errors")

    def _versus(self, name: str) -> float:
        base = self.points.get(POST)
        found = self.points.get(name)
        return ratio(found.jobs_per_s, base.jobs_per_s) if found and base else float("nan")

    def headline(self) -> list[str]:
        if len(self.points) < 3:
            return []
        get, etag = self.points[GET], self.points[ETAG]
        return [
            f"One GET per answer ({CONNECTIONS} connections, wrk): the GET answer path does "
            f"**{self._versus(GET):.2f}x the POST + poll path's jobs/s** "
            f"({get.jobs_per_s:,.0f}/s), and a warm ETag (304, no job) "
            f"**{self._versus(ETAG):.2f}x** ({etag.jobs_per_s:,.0f} answers/s).",
            "",
        ]

    def targets(self) -> list[Target]:
        if not self.points:
            return [Target("GET answers: no error status (wrk)", "not measured", None)]
        bad = sum(p.bad for p in self.points.values())
        done = sum(p.jobs for p in self.points.values())
        return [Target("GET answers: no error status (wrk)", f"{bad} of {done:,}", bad == 0)]

    def markdown(self) -> list[str]:
        if not self.points:
            return []
        rows = list(self.points.values())
        return [
            f"## {self.title}",
            "",
            f"The service with its defaults under three `wrk` loops, {CONNECTIONS} connections "
            "each, taken in turn on one server (a warm-up each, then interleaved slices with a "
            "second of uncounted lead-in), over the same 81 endpoint x question pairs: "
            "`bench/cycle.lua` submits each job and polls `get_results` until it is done; "
            "`bench/answer.lua` GETs `/api/answers/<endpoint>.json?...` (held for its answer, "
            "or polled from its `Location` on a 202); `bench/revalidate.lua` sends each GET "
            "with `If-None-Match` and the answer's ETag, as an HTTP cache in front of the "
            "service would, and counts the 304s (answers served, no job made). Every answer "
            "is already stored after the warm-up, so most GETs finish their job at once in "
            "the request thread. 'vs POST + poll' is jobs (or answers) per second over the "
            "POST loop's; CPU is all of the server's processes.",
            "",
            *columns(
                rows,
                [
                    ("loop", lambda r: r.name),
                    *point.columns(
                        lambda r: r, ("vs POST + poll", lambda r: f"{self._versus(r.name):.2f}x")
                    ),
                    ("CPU µs/answer", lambda r: f"{r.cpu_us_per_job:.0f}"),
                ],
            ),
            "",
        ]
