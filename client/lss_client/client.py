"""`Client`: ask the service questions from ordinary (synchronous) Python code."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lss_client import protocol
from lss_client._httpx import httpx
from lss_client.async_client import AsyncClient
from lss_client.errors import JobTimeout
from lss_client.job import Answer, Question, QuestionInfo
from lss_client.protocol import Policy, Running


class Client:
    """A connection to one server: `with Client(url) as c: data = c.ask(endpoint, question)`.

    Every call retries dropped connections and transient 503s as `policy` allows, and raises
    one `LssError` subclass per kind of failure.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        policy: Policy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = protocol.base_url(url)
        self.policy = policy or Policy()
        self._http = httpx.Client(
            base_url=self.url, timeout=self.policy.timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def ask(
        self,
        endpoint: str,
        question: str,
        state: str | None = None,
        *,
        category: str | None = None,
        years: tuple[int, int] | int | None = None,
        stratification: tuple[str, str] | None = None,
    ) -> Any:
        """Ask one question and return the answer's `data`: one request when the server
        answers within `Policy.wait` (`Prefer: wait`), else it polls for the job."""
        asked = Question(
            endpoint,
            question,
            state,
            category=category,
            years=years,  # type: ignore[arg-type]  # Question makes y into (y, y)
            stratification=stratification,
        )
        job_id, data = self._post(asked, self.policy.wait)
        return self.wait(job_id) if data is Running else data

    def submit(
        self,
        endpoint: str,
        question: str,
        state: str | None = None,
        *,
        category: str | None = None,
        years: tuple[int, int] | int | None = None,
        stratification: tuple[str, str] | None = None,
    ) -> str:
        """Submit one question and return its job id at once (the server holds nothing)."""
        asked = Question(
            endpoint,
            question,
            state,
            category=category,
            years=years,  # type: ignore[arg-type]
            stratification=stratification,
        )
        return self._post(asked, 0)[0]

    def _post(self, asked: Question, wait: float) -> tuple[str, Any]:
        """POST `asked`, letting the server hold it up to `wait` s: (job id, data or Running)."""
        wait_s = protocol.held_wait(wait)
        response = self._send(
            "POST",
            protocol.submit_path(asked.endpoint),
            asked.body(),
            headers=protocol.prefer(wait_s),
            timeout=self.policy.timeout + wait_s,
        )
        return protocol.accepted(response, asked.endpoint)

    def wait(self, job_id: str) -> Any:
        """Poll `job_id` with back-off until it finishes; return its `data`."""
        limit = self.policy.job_timeout
        deadline = None if limit is None else time.monotonic() + limit
        delays = protocol.backoff(self.policy.poll_delay, self.policy.poll_delay_max)
        while True:
            data = protocol.outcome(self._send("GET", protocol.result_path(job_id)), job_id)
            if data is not Running:
                return data
            delay = next(delays)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise JobTimeout(f"{job_id} still running after {limit} s", job_id=job_id)
                delay = min(delay, left)
            time.sleep(delay)

    def bulk(
        self,
        questions: Iterable[Question | Mapping[str, Any]],
        concurrency: int = 16,
        on_answer: Callable[[int, Answer], None] | None = None,
    ) -> list[Answer]:
        """`AsyncClient.bulk` run on a private event loop (call it from code without one)."""

        async def run() -> list[Answer]:
            async with AsyncClient(self.url, policy=self.policy) as client:
                return await client.bulk(questions, concurrency, on_answer)

        return asyncio.run(run())

    def questions(self) -> dict[str, str]:
        """The server's questions, each with the direction that is better (lowest/highest)."""
        return protocol.questions(self._send("GET", "/api/questions"))

    def catalog(self) -> dict[str, QuestionInfo]:
        """The server's questions in full: each one's better end, and the years, categories and
        strata its data has for it (so that no client keeps a copy of them)."""
        return protocol.catalog(self._send("GET", "/api/questions"))

    def states(self) -> list[str]:
        """The locations the server has data for, by name."""
        return protocol.field(self._send("GET", "/api/states"), "states")

    def jobs(self) -> dict[str, str]:
        """Every live job's status by id, in id order."""
        return protocol.jobs(self._send("GET", "/api/jobs"))

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """One request, retried after a transport failure, a 429 or a transient 503 within the
        policy (after the wait the server's Retry-After asked, if it did)."""
        delays = protocol.backoff(self.policy.retry_delay, self.policy.retry_delay_max)
        last: httpx.Response | Exception | None = None
        for attempt in range(self.policy.retries + 1):
            if attempt:
                time.sleep(protocol.pause(last, next(delays), self.policy))
            try:
                response = self._http.request(
                    method, path, json=body, headers=headers, timeout=timeout or self.policy.timeout
                )
            except protocol.RETRYABLE as exc:
                last = exc
                continue
            except httpx.TransportError as exc:
                raise protocol.unreachable(self.url, exc) from exc
            if not protocol.is_transient(response):
                return response
            last = response
        raise protocol.give_up(self.url, last, self.policy.retries)
