"""Closed-loop load: C clients, each submitting a job, polling until done and checking the answer.

The clients run as threads of one separate process (multiprocessing, spawn; started once per
session and reused), so that the harness, which samples the server's memory and CPU meanwhile,
never competes with them for a GIL. Each client holds one keep-alive HTTP/1.1 connection of its
own (`Connection`, a few lines over a socket: `http.client` spent more CPU per request than the
servers it measured, on a machine they share) and parses with orjson. This module imports
nothing from the project, so the load process stays small.

Timeline of one run: a warm-up (jobs not counted, but errors are), then the measured window;
after the window clients start no new job, finish the one in flight, and stop. Throughput counts
jobs that finished inside the window; latency is submit-to-done, from just before the POST is
sent to the moment the done body has been read.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

#: Poll back-off: the first poll is immediate, then sleeps double from FIRST up to MAX seconds.
FIRST_BACKOFF = 0.0005
MAX_BACKOFF = 0.008
_RUNNING = b'{"status":"running"}'
_HEAD_END = b"\r\n\r\n"
_LENGTH = b"\r\ncontent-length:"
_CLOSE = b"\r\nconnection: close"


class Connection:
    """A keep-alive HTTP/1.1 client connection: a request out, a Content-Length framed answer in.

    Only what the job API needs: no chunked answers, no redirects, no TLS. Anything else is a
    ConnectionError, which the client counts as an error and answers by reconnecting.
    """

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._host = f"Host: {host}:{port}\r\n".encode()
        self._buffer = b""
        #: True once the server asked to close (or close() was called): open a new one.
        self.closed = False

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request and read its answer; (status, body)."""
        line = f"{method} {path} HTTP/1.1\r\n".encode() + self._host
        if body is None:
            self._sock.sendall(line + b"\r\n")
        else:
            length = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            self._sock.sendall(line + length.encode() + body)
        buffer = self._buffer
        while (end := buffer.find(_HEAD_END)) < 0:
            buffer += self._receive()
        head = buffer[:end].lower()
        at = head.find(_LENGTH)
        if not head.startswith(b"http/1.1 ") or at < 0:
            raise ConnectionError(f"unexpected answer head: {buffer[:end][:200]!r}")
        stop = head.find(b"\r\n", at + 2)
        size = int(head[at + len(_LENGTH) : stop if stop >= 0 else len(head)])
        start = end + len(_HEAD_END)
        while len(buffer) < start + size:
            buffer += self._receive()
        self._buffer = buffer[start + size :]
        if _CLOSE in head:
            self.close()
        return int(head[9:12]), buffer[start : start + size]

    def _receive(self) -> bytes:
        chunk = self._sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        """Close the socket; a later request on this connection fails."""
        self.closed = True
        self._sock.close()


class Key(NamedTuple):
    """One distinct question a client can ask: equal keys always get equal answers."""

    endpoint: str
    question: str
    state: str | None


@dataclass(frozen=True)
class Plan:
    """What the clients may ask and what the answers must be."""

    #: (endpoint, question): all nine endpoints x nine questions.
    combos: tuple[tuple[str, str], ...]
    #: question -> the locations with data for it (what the state endpoints may ask about).
    states: dict[str, tuple[str, ...]]
    #: endpoint -> whether its body carries a state.
    needs_state: dict[str, bool]
    #: Key -> the expected `data` of the finished job.
    expected: dict[Key, Any]


@dataclass(frozen=True)
class LoadConfig:
    """One load run: where, how many clients, how long, which mix."""

    host: str
    port: int
    clients: int
    duration: float
    warmup: float = 1.0
    mix: str = "round-robin"  # or "random"
    seed: int = 2011
    job_timeout: float = 10.0


@dataclass
class LoadResult:
    """What one load run measured (latencies in milliseconds, sorted)."""

    clients: int
    window_s: float
    jobs: int
    latencies_ms: list[float]
    polls: int
    errors: dict[str, int]
    wrong: int
    jobs_total: int
    client_cpu_s: float
    #: Filled in by the harness: server CPU seconds over the window and peak resident memory.
    server_cpu_s: float = 0.0
    server_sys_s: float = 0.0
    server_peak_rss: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def jobs_per_s(self) -> float:
        """Jobs finished per second of the measured window."""
        return self.jobs / self.window_s if self.window_s > 0 else 0.0

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile of submit-to-done latency, in ms (NaN without jobs)."""
        if not self.latencies_ms:
            return math.nan
        rank = max(1, math.ceil(fraction * len(self.latencies_ms)))
        return self.latencies_ms[rank - 1]

    @property
    def p50(self) -> float:
        """Median submit-to-done latency in ms."""
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        """99th percentile submit-to-done latency in ms."""
        return self.percentile(0.99)

    @property
    def polls_per_job(self) -> float:
        """get_results requests per counted job."""
        return self.polls / self.jobs if self.jobs else math.nan

    @property
    def error_count(self) -> int:
        """Every failed job: non-200, connection error, timeout or an error status."""
        return sum(self.errors.values())

    @property
    def client_cpu(self) -> float:
        """Load process CPU over the window, in cores (1.0 = one core busy)."""
        return self.client_cpu_s / self.window_s if self.window_s > 0 else 0.0

    @property
    def server_ms_per_job(self) -> float:
        """Server CPU milliseconds (user + system) per counted job."""
        return self.server_cpu_s * 1000.0 / self.jobs if self.jobs else math.nan

    @property
    def server_sys_ms_per_job(self) -> float:
        """Server system (kernel) CPU milliseconds per counted job."""
        return self.server_sys_s * 1000.0 / self.jobs if self.jobs else math.nan

    @property
    def server_cpu(self) -> float:
        """Server process CPU over the window, in cores."""
        return self.server_cpu_s / self.window_s if self.window_s > 0 else 0.0


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
    if isinstance(want, float):
        return isinstance(got, float) and got == want
    return type(got) is type(want) and got == want


class _Client:
    """One closed-loop client: a keep-alive connection, its own request sequence and checks."""

    def __init__(self, index: int, plan: Plan, config: LoadConfig) -> None:
        self.plan = plan
        self.config = config
        self.rng = random.Random(config.seed * 7919 + index)
        self.position = index * len(plan.combos) // max(1, config.clients)
        self.conn: Connection | None = None
        #: Key -> a body already parsed and found right: identical bytes need no second parse.
        self.verified: dict[Key, bytes] = {}
        #: (start, end, polls, outcome) per job, perf_counter seconds.
        self.records: list[tuple[float, float, int, str]] = []

    def next_key(self) -> Key:
        """The next request of the mix: round-robin over the combos, or seeded-random."""
        plan = self.plan
        if self.config.mix == "random":
            endpoint, question = self.rng.choice(plan.combos)
        else:
            endpoint, question = plan.combos[self.position % len(plan.combos)]
            self.position += 1
        state = self.rng.choice(plan.states[question]) if plan.needs_state[endpoint] else None
        return Key(endpoint, question, state)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request on the keep-alive connection; (status, body)."""
        if self.conn is None or self.conn.closed:
            self.conn = Connection(self.config.host, self.config.port, self.config.job_timeout)
        return self.conn.request(method, path, body)

    def job(self, key: Key, body: bytes) -> tuple[int, str]:
        """Run one job to the end; (polls, outcome) with outcome "ok", "wrong" or an error."""
        polls = 0
        try:
            status, data = self.request("POST", f"/api/{key.endpoint}", body)
            if status != 200:
                return polls, f"POST answered {status}"
            path = f"/api/get_results/{orjson.loads(data)['job_id']}"
            give_up = time.perf_counter() + self.config.job_timeout
            delay = FIRST_BACKOFF
            while True:
                status, data = self.request("GET", path)
                polls += 1
                if status != 200:
                    return polls, f"get_results answered {status}"
                if data != _RUNNING and not (
                    len(data) < 64 and orjson.loads(data).get("status") == "running"
                ):
                    break
                if time.perf_counter() > give_up:
                    return polls, "timed out"
                time.sleep(delay)
                delay = min(2 * delay, MAX_BACKOFF)
            return polls, self.check(key, data)
        except (OSError, ValueError, KeyError) as error:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            return polls, f"connection: {type(error).__name__}"

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
        bodies: dict[Key, bytes] = {}
        while True:
            start = time.perf_counter()
            if start >= deadline:
                break
            key = self.next_key()
            body = bodies.get(key)
            if body is None:
                payload = {"question": key.question}
                if key.state is not None:
                    payload["state"] = key.state
                body = bodies[key] = orjson.dumps(payload)
            polls, outcome = self.job(key, body)
            self.records.append((start, time.perf_counter(), polls, outcome))
            if outcome.startswith("connection"):
                time.sleep(0.01)  # a refused connection must not become a hot loop
        if self.conn is not None:
            self.conn.close()


def _run_clients(pipe: Any, plan: Plan, config: LoadConfig) -> LoadResult:
    """Run the clients once: tell the harness when the window opens and ends; return the tally."""
    clients = [_Client(index, plan, config) for index in range(config.clients)]
    begin = time.perf_counter()
    window_start = begin + config.warmup
    deadline = window_start + config.duration
    threads = [
        threading.Thread(target=client.run, args=(deadline,), name=f"client-{n}", daemon=True)
        for n, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, window_start - time.perf_counter()))
    cpu_start = time.process_time()
    pipe.send("window")
    time.sleep(max(0.0, deadline - time.perf_counter()))
    cpu_end = time.process_time()
    pipe.send("end")
    for thread in threads:
        thread.join(config.job_timeout + 5)

    latencies: list[float] = []
    polls = jobs_total = wrong = 0
    errors: Counter[str] = Counter()
    for client in clients:
        for start, end, job_polls, outcome in client.records:
            jobs_total += 1
            if outcome == "wrong":
                wrong += 1
            elif outcome != "ok":
                errors[outcome] += 1
            elif window_start <= end <= deadline:
                latencies.append((end - start) * 1000.0)
                polls += job_polls
    latencies.sort()
    return LoadResult(
        clients=config.clients,
        window_s=config.duration,
        jobs=len(latencies),
        latencies_ms=latencies,
        polls=polls,
        errors=dict(errors),
        wrong=wrong,
        jobs_total=jobs_total,
        client_cpu_s=cpu_end - cpu_start,
    )


def _load_process(pipe: Any) -> None:
    """Body of the load process: take a plan, then run loads on demand until told to stop."""
    plan: Plan | None = None
    while True:
        command, argument = pipe.recv()
        if command == "plan":
            plan = argument
        elif command == "run" and plan is not None:
            pipe.send(_run_clients(pipe, plan, argument))
        else:
            break
    pipe.close()


class LoadRunner:
    """A load process, spawned once and reused for every run of a session.

    Spawned (not forked), so it holds none of the harness's threads or data; the plan is sent to
    it once per dataset.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(
            target=_load_process, args=(theirs,), name="lss-bench-load", daemon=True
        )
        self._process.start()
        theirs.close()
        self._plan: Plan | None = None

    def run(
        self,
        plan: Plan,
        config: LoadConfig,
        on_window: Callable[[], None] | None = None,
        on_end: Callable[[], None] | None = None,
    ) -> LoadResult:
        """One closed-loop load; calls the hooks as the measured window opens and ends."""
        if plan is not self._plan:
            self._pipe.send(("plan", plan))
            self._plan = plan
        self._pipe.send(("run", config))
        limit = time.monotonic() + config.warmup + config.duration + config.job_timeout + 60
        try:
            while True:
                remaining = limit - time.monotonic()
                if remaining <= 0 or not self._pipe.poll(remaining):
                    raise RuntimeError("the load process did not report in time")
                message = self._pipe.recv()
                if message == "window":
                    if on_window:
                        on_window()
                elif message == "end":
                    if on_end:
                        on_end()
                else:
                    return message
        except EOFError:
            code = self._process.exitcode
            raise RuntimeError(f"the load process died (exit code {code})") from None

    def close(self) -> None:
        """Stop the load process (kill it if it does not stop by itself)."""
        with contextlib.suppress(OSError):
            self._pipe.send(("stop", None))
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._pipe.close()

    def __enter__(self) -> LoadRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def merge(results: Sequence[LoadResult], warmups: Sequence[LoadResult] = ()) -> LoadResult:
    """Several runs against one server as one; the warm-ups add only their errors."""
    errors: Counter[str] = Counter()
    for result in [*results, *warmups]:
        errors.update(result.errors)
    merged = LoadResult(
        clients=results[0].clients,
        window_s=sum(r.window_s for r in results),
        jobs=sum(r.jobs for r in results),
        latencies_ms=sorted(ms for r in results for ms in r.latencies_ms),
        polls=sum(r.polls for r in results),
        errors=dict(errors),
        wrong=sum(r.wrong for r in [*results, *warmups]),
        jobs_total=sum(r.jobs_total for r in [*results, *warmups]),
        client_cpu_s=sum(r.client_cpu_s for r in results),
        server_cpu_s=sum(r.server_cpu_s for r in results),
        server_sys_s=sum(r.server_sys_s for r in results),
        server_peak_rss=max(r.server_peak_rss for r in results),
    )
    merged.extra["slices"] = [r.jobs_per_s for r in results]
    merged.extra["slice_jobs"] = sum(r.jobs_total for r in results)
    return merged
