"""The Python load generator: closed-loop client threads that check every answer they get."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import orjson

from bench import point
from bench.connection import Connection
from bench.point import Point, Slice
from bench.server import Server
from bench.workload import Key, Plan, done_body

FIRST_BACKOFF, MAX_BACKOFF = 0.0005, 0.008
JOB_TIMEOUT_S = 10.0
LEAD_IN_S = 0.2
_RUNNING = b'{"status":"running"}'
T = TypeVar("T")


class _Client:
    """One closed-loop client: a keep-alive connection, its own walk through the mix, checks."""

    def __init__(self, index: int, plan: Plan, server: Server, clients: int, wait: int = 0) -> None:
        self.plan, self.server = plan, server
        #: The POST's header asking to hold it until the job is done (SPEC 14), if `wait`.
        self.prefer = f"Prefer: wait={wait}\r\n".encode() if wait else b""
        self.rng = random.Random(2011 * 7919 + index)
        self.position = index * len(plan.combos) // max(1, clients)
        self.conn: Connection | None = None
        self.records: list[tuple[float, float, str]] = []  # (start, end, outcome) per job

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: bytes = b""
    ) -> tuple[int, bytes]:
        """One request on the keep-alive connection (opened again if closed)."""
        if self.conn is None or self.conn.closed:
            self.conn = Connection(self.server.host, self.server.port, JOB_TIMEOUT_S)
        return self.conn.request(method, path, body, headers)

    def job(self, key: Key, body: bytes) -> str:
        """Run one job to the end: "ok", "wrong" or what went wrong."""
        try:
            status, data = self.request("POST", f"/api/{key.endpoint}", body, self.prefer)
            if status != 200:
                return f"POST answered {status}"
            if self.prefer and b'"status":' in data:  # held until done: the answer itself
                return self.check(key, data)
            path = f"/api/get_results/{orjson.loads(data)['job_id']}"
            give_up, delay = time.perf_counter() + JOB_TIMEOUT_S, FIRST_BACKOFF
            while True:
                status, data = self.request("GET", path)
                if status != 200:
                    return f"get_results answered {status}"
                if data != _RUNNING and (len(data) > 64 or b'"running"' not in data):
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
        """Right when `data` is the expected answer as orjson writes it (key order, types, bits)."""
        want = self.plan.expected[key]
        if data == done_body(want):
            return "ok"
        parsed = orjson.loads(data)
        status = parsed.get("status") if isinstance(parsed, dict) else None
        if status == "error":
            return "status error"
        return "ok" if status == "done" and orjson.dumps(parsed.get("data")) == want else "wrong"

    def run(self, deadline: float) -> None:
        """Submit jobs back to back until `deadline`."""
        plan, bodies = self.plan, {}
        while (start := time.perf_counter()) < deadline:
            endpoint, question = plan.combos[self.position % len(plan.combos)]
            self.position += 1
            state = self.rng.choice(plan.states[question]) if plan.needs_state[endpoint] else None
            key = Key(endpoint, question, state)
            if key not in bodies:
                payload = {"question": question} | ({"state": state} if state else {})
                bodies[key] = orjson.dumps(payload)
            outcome = self.job(key, bodies[key])
            self.records.append((start, time.perf_counter(), outcome))
            if outcome.startswith("connection"):
                time.sleep(0.01)  # a refused connection must not become a hot loop
        if self.conn is not None:
            self.conn.close()


def _percentile(latencies: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted latencies (NaN without any)."""
    if not latencies:
        return math.nan
    return latencies[max(1, math.ceil(fraction * len(latencies))) - 1]


def run(plan: Plan, server: Server, clients: int, seconds: float, wait: int = 0) -> Slice:
    """`clients` clients against `server`: LEAD_IN_S uncounted, then `seconds` measured; with
    `wait`, each POST asks to be held up to that many seconds (`Prefer: wait`), as `lss` does."""
    workers = [_Client(n, plan, server, clients, wait) for n in range(clients)]
    window = time.perf_counter() + LEAD_IN_S
    deadline = window + seconds
    threads = [threading.Thread(target=w.run, args=(deadline,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(deadline - time.perf_counter() + JOB_TIMEOUT_S + 5)
    records = [record for w in workers for record in w.records]
    done = sorted((e - s) * 1000 for s, e, o in records if o == "ok" and window <= e <= deadline)
    wrong = sum(o == "wrong" for _, _, o in records)
    bad = sum(o not in ("ok", "wrong") for _, _, o in records)
    p50, p99 = _percentile(done, 0.5), _percentile(done, 0.99)
    return Slice(len(done), seconds, bad, p50, p99, checked=len(records), wrong=wrong)


def client(
    plan: Callable[[Server], Plan], clients: int, wait: int = 0
) -> Callable[[Server, float], Slice]:
    """A lineup's client: `clients` clients of the plan `plan(server)` gives each server."""
    return lambda server, seconds: run(plan(server), server, clients, seconds, wait)


def columns(
    of: Callable[[T], Point], versus: tuple[str, Callable[[T], str]] | None = None
) -> list[tuple[str, Callable[[T], str]]]:
    """The columns of a table of points measured by the load generator."""
    return [
        *point.columns(of, versus),
        ("answers checked", lambda row: f"{of(row).checked:,}"),
        ("wrong", lambda row: str(of(row).wrong)),
    ]
