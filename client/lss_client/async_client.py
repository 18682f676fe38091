"""`AsyncClient`: the same questions from asyncio code, and many of them at once (`bulk`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lss_client import protocol
from lss_client._httpx import httpx
from lss_client.errors import FATAL, JobTimeout, LssError
from lss_client.job import Answer, Question, QuestionInfo
from lss_client.protocol import Policy, Running

#: Jobs a bulk call keeps in flight unless told otherwise.
DEFAULT_CONCURRENCY = 16
#: How the reason of a question a bulk call did not send begins.
NOT_SENT = "not sent: "


class AsyncClient:
    """`async with AsyncClient(url) as c: data = await c.ask(endpoint, question, state=None)`.

    Same behaviour as `Client` (retries, back-off, exceptions); `bulk` asks many questions
    with at most N jobs in flight and returns the answers in input order.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        policy: Policy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = protocol.base_url(url)
        self.policy = policy or Policy()
        # No cap on connections: a bulk call's concurrency is the cap (one request per job).
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=256)
        self._http = httpx.AsyncClient(
            base_url=self.url, timeout=self.policy.timeout, limits=limits, transport=transport
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def ask(
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
        job_id, data = await self._post(asked, self.policy.wait)
        return await self.wait(job_id) if data is Running else data

    async def submit(
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
        return (await self._post(asked, 0))[0]

    async def _post(self, asked: Question, wait: float) -> tuple[str, Any]:
        """POST `asked`, letting the server hold it up to `wait` s: (job id, data or Running)."""
        wait_s = protocol.held_wait(wait)
        response = await self._send(
            "POST",
            protocol.submit_path(asked.endpoint),
            asked.body(),
            headers=protocol.prefer(wait_s),
            timeout=self.policy.timeout + wait_s,
        )
        return protocol.accepted(response, asked.endpoint)

    async def wait(self, job_id: str) -> Any:
        """Poll `job_id` with back-off until it finishes; return its `data`."""
        limit = self.policy.job_timeout
        deadline = None if limit is None else time.monotonic() + limit
        delays = protocol.backoff(self.policy.poll_delay, self.policy.poll_delay_max)
        while True:
            response = await self._send("GET", protocol.result_path(job_id))
            data = protocol.outcome(response, job_id)
            if data is not Running:
                return data
            delay = next(delays)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise JobTimeout(f"{job_id} still running after {limit} s", job_id=job_id)
                delay = min(delay, left)
            await asyncio.sleep(delay)

    async def bulk(
        self,
        questions: Iterable[Question | Mapping[str, Any]],
        concurrency: int = DEFAULT_CONCURRENCY,
        on_answer: Callable[[int, Answer], None] | None = None,
    ) -> list[Answer]:
        """Ask every question with at most `concurrency` jobs in flight; answers in input order.

        A question that fails gets an Answer carrying its error; the others go on. After a
        failure that every later request would share (shutting down, unreachable, unavailable)
        nothing more is sent: the jobs in flight are still awaited, the rest get that error.
        `on_answer(index, answer)` is called as each one finishes, in completion order.
        """
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        asked = [q if isinstance(q, Question) else Question.from_mapping(q) for q in questions]
        answers: list[Answer | None] = [None] * len(asked)
        queue = iter(enumerate(asked))
        stopped: LssError | None = None

        async def worker() -> None:
            nonlocal stopped
            for index, question in queue:  # shared: each item goes to exactly one worker
                if stopped is not None:
                    error = type(stopped)(NOT_SENT + stopped.reason)
                    answer = Answer(question, None, error=error)
                else:
                    answer = await self._answer(question)
                    if isinstance(answer.error, FATAL) and stopped is None:
                        stopped = answer.error
                answers[index] = answer
                if on_answer is not None:
                    on_answer(index, answer)

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(asked)))))
        return [answer for answer in answers if answer is not None]

    async def questions(self) -> dict[str, str]:
        """The server's questions, each with the direction that is better (lowest/highest)."""
        return protocol.questions(await self._send("GET", "/api/questions"))

    async def catalog(self) -> dict[str, QuestionInfo]:
        """The server's questions in full: each one's better end, and the years, categories and
        strata its data has for it (so that no client keeps a copy of them)."""
        return protocol.catalog(await self._send("GET", "/api/questions"))

    async def states(self) -> list[str]:
        """The locations the server has data for, by name."""
        return protocol.field(await self._send("GET", "/api/states"), "states")

    async def jobs(self) -> dict[str, str]:
        """Every live job's status by id, in id order."""
        return protocol.jobs(await self._send("GET", "/api/jobs"))

    async def _answer(self, question: Question) -> Answer:
        """Submit and wait for one question, turning an LssError into the Answer's error."""
        job_id = None
        try:
            job_id, data = await self._post(question, self.policy.wait)
            if data is Running:
                data = await self.wait(job_id)
            return Answer(question, job_id, data=data)
        except LssError as error:
            return Answer(question, job_id or error.job_id, error=error)

    async def _send(
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
                await asyncio.sleep(protocol.pause(last, next(delays), self.policy))
            try:
                response = await self._http.request(
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
