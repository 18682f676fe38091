"""The Python load generator: closed-loop clients that check every answer they get.

Each client is a thread with one keep-alive connection of its own: it submits a job, polls until
the job is done (at once, then with a back-off doubling from 0.5 to 8 ms), compares the answer
with the one computed in-process, and submits the next, walking all nine endpoints x nine
questions from its own offset (the state endpoints draw a state, seeded). A run is a warm-up
(its jobs are not timed, but they are checked) and then the measured window; throughput counts
jobs done inside the window, latency is submit-to-done.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from bench.connection import Connection
from bench.lineup import Measured
from bench.server import Server
from bench.workload import Key, Plan

FIRST_BACKOFF = 0.0005
MAX_BACKOFF = 0.008
JOB_TIMEOUT_S = 10.0
#: Uncounted seconds at the start of each run (new connections); the server is already warm.
LEAD_IN_S = 0.2
_RUNNING = b'{"status":"running"}'


@dataclass
class LoadResult:
    """What the clients of one or more runs saw (latencies in milliseconds, sorted)."""

    seconds: float
    latencies_ms: list[float]
    #: Every job checked, warm-ups included, and the wrong answers and errors among them.
    checked: int
    wrong: int
    errors: dict[str, int]

    @property
    def jobs_per_s(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile of submit-to-done latency (NaN without jobs)."""
        if not self.latencies_ms:
            return math.nan
        return self.latencies_ms[max(1, math.ceil(fraction * len(self.latencies_ms))) - 1]

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    @property
    def error_count(self) -> int:
        """Failed jobs: a status other than 200, a connection error, a time-out, an error body."""
        return sum(self.errors.values())


def same(got: Any, want: Any) -> bool:
    """True when parsed JSON `got` equals `want` exactly: same types, key order, float values."""
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and list(got) == list(want)
            and all(same(got[key], item) for key, item in want.items())
        )
    if isinstance(want, (list, tuple)):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(same(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    return type(got) is type(want) and got == want


class _Client:
    """One closed-loop client: a keep-alive connection, its own walk through the mix, checks."""

    def __init__(self, index: int, plan: Plan, server: Server, clients: int) -> None:
        self.plan, self.server = plan, server
        self.rng = random.Random(2011 * 7919 + index)
        self.position = index * len(plan.combos) // max(1, clients)
        self.conn: Connection | None = None
        #: Key -> a body already parsed and found right: identical bytes need no second parse.
        self.verified: dict[Key, bytes] = {}
        #: (start, end, outcome) per job, perf_counter seconds.
        self.records: list[tuple[float, float, str]] = []

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """One request on the keep-alive connection (opened again if closed)."""
        if self.conn is None or self.conn.closed:
            self.conn = Connection(self.server.host, self.server.port, JOB_TIMEOUT_S)
        return self.conn.request(method, path, body)

    def job(self, key: Key, body: bytes) -> str:
        """Run one job to the end: "ok", "wrong" or what went wrong."""
        try:
            status, data = self.request("POST", f"/api/{key.endpoint}", body)
            if status != 200:
                return f"POST answered {status}"
            path = f"/api/get_results/{orjson.loads(data)['job_id']}"
            give_up, delay = time.perf_counter() + JOB_TIMEOUT_S, FIRST_BACKOFF
            while True:
                status, data = self.request("GET", path)
                if status != 200:
                    return f"get_results answered {status}"
                if data != _RUNNING and not (
                    len(data) < 64 and orjson.loads(data).get("status") == "running"
                ):
                    return self.check(key, data)
                if time.perf_counter() > give_up:
                    return "timed out"
                time.sleep(delay)
                delay = min(2 * delay, MAX_BACKOFF)
        except (OSError, ValueError, KeyError) as error:
            if self.conn is not None:
                self.conn.close()
            return f"connection: {type(error).__name__}"

    def check(self, key: Key, data: bytes) -> str:
        """Compare a finished job's body with the expected answer."""
        if self.verified.get(key) == data:
            return "ok"
        parsed = orjson.loads(data)
        status = parsed.get("status") if isinstance(parsed, dict) else None
        if status == "error":
            return "status error"
        if status != "done" or not same(parsed.get("data"), self.plan.expected[key]):
            return "wrong"
        self.verified[key] = data
        return "ok"

    def run(self, deadline: float) -> None:
        """Submit jobs back to back until `deadline`."""
        plan, bodies = self.plan, {}
        while (start := time.perf_counter()) < deadline:
            endpoint, question = plan.combos[self.position % len(plan.combos)]
            self.position += 1
            state = self.rng.choice(plan.states[question]) if plan.needs_state[endpoint] else None
            key = Key(endpoint, question, state)
            if key not in bodies:
                payload = {"question": question, **({"state": state} if state else {})}
                bodies[key] = orjson.dumps(payload)
            outcome = self.job(key, bodies[key])
            self.records.append((start, time.perf_counter(), outcome))
            if outcome.startswith("connection"):
                time.sleep(0.01)  # a refused connection must not become a hot loop
        if self.conn is not None:
            self.conn.close()


def run(plan: Plan, server: Server, clients: int, seconds: float) -> LoadResult:
    """`clients` clients against `server`: LEAD_IN_S uncounted, then `seconds` measured."""
    workers = [_Client(n, plan, server, clients) for n in range(clients)]
    window = time.perf_counter() + LEAD_IN_S
    deadline = window + seconds
    threads = [threading.Thread(target=w.run, args=(deadline,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(deadline - time.perf_counter() + JOB_TIMEOUT_S + 5)
    records = [record for w in workers for record in w.records]
    outcomes = Counter(outcome for _, _, outcome in records)
    latencies = sorted(
        (end - start) * 1000 for start, end, o in records if o == "ok" and window <= end <= deadline
    )
    wrong = outcomes.pop("wrong", 0)
    outcomes.pop("ok", None)
    return LoadResult(seconds, latencies, len(records), wrong, dict(outcomes))


def client(plan: Plan | Callable[[Server], Plan], clients: int) -> Callable[[Server, float], Any]:
    """A lineup's client: `clients` clients of `plan` (or of the plan a server's name picks)."""

    def load(server: Server, seconds: float) -> LoadResult:
        return run(plan(server) if callable(plan) else plan, server, clients, seconds)

    return load


def merge(measured: Measured[LoadResult]) -> LoadResult:
    """A contender's slices as one run; the warm-up adds its checks, not its latencies."""
    results: Sequence[LoadResult] = measured.slices
    errors: Counter[str] = Counter()
    for result in [*results, measured.warm_up]:
        errors.update(result.errors)
    return LoadResult(
        seconds=sum(r.seconds for r in results),
        latencies_ms=sorted(ms for r in results for ms in r.latencies_ms),
        checked=sum(r.checked for r in [*results, measured.warm_up]),
        wrong=sum(r.wrong for r in [*results, measured.warm_up]),
        errors=dict(errors),
    )
