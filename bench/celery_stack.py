"""The Celery stacks a benchmark runs on: one redis-server as `make redis` runs it (its
passwords in the workdir), and for each stack its own Redis database with workers as `make
worker` starts them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path

import redis as redis_py

from app import config
from app.celery_engine import redis_server
from app.celery_engine.password import ensure
from bench.server import Server, free_port, running


def _answering(password: str) -> Callable[[Server], bool]:
    """Whether the redis-server on a server's port answers PING (given `password`)."""

    def answers(server: Server) -> bool:
        with suppress(redis_py.RedisError):
            client = redis_py.Redis(port=server.port, password=password, socket_timeout=1)
            return bool(client.ping())
        return False

    return answers


def _says_ready(server: Server) -> bool:
    """Whether a worker says it consumes jobs (Celery's "<name> ready." line)."""
    return b" ready." in server.output


@dataclass(frozen=True)
class CeleryStack:
    """One stack of stack_up: its broker URL, its bare round trip's, its worker processes and the
    redis-server (which every stack shares)."""

    url: str
    bare_url: str
    workers: list[Server]
    redis: Server


def stack_up(
    stack: ExitStack,
    workdir: Path,
    counts: tuple[int, ...],
    worker_argv: Sequence[Sequence[str]] | None = None,
) -> list[CeleryStack]:
    """A redis-server as `make redis` runs it and workers as `make worker` starts them, all
    ready: for each count a stack, its own database with that many workers, given the extra
    `celery worker` arguments at its place in `worker_argv` (say `--pool solo`), if any."""
    program = redis_server.binary()
    if program is None:
        raise RuntimeError("no redis-server installed (make installs it into .venv)")
    if len(counts) > 5:
        raise ValueError("at most 5 stacks: 2 databases each of Redis's 16")
    folder, port = workdir / "redis", free_port()
    folder.mkdir(parents=True, exist_ok=True)
    passwords = ensure(folder)
    maxmemory = config.SETTINGS["REDIS_MAXMEMORY"][1]
    argv = redis_server.command(program, port, folder, passwords, maxmemory)
    ready = _answering(passwords.service)
    redis = stack.enter_context(running("redis", argv, parent=workdir, ready=ready, port=port))
    worker = [sys.executable, "-m", "app.celery_engine.worker"]  # what `make worker` runs
    extras = worker_argv if worker_argv is not None else [()] * len(counts)
    stacks = []
    for place, (count, extra) in enumerate(zip(counts, extras, strict=True), start=1):
        url = f"redis://:{passwords.service}@127.0.0.1:{port}/{place}"
        workers = [
            stack.enter_context(
                running(
                    f"worker-{place}-{number}",
                    [*worker, *extra],
                    env={"LSS_BROKER_URL": url},
                    parent=workdir,
                    ready=_says_ready,
                )
            )
            for number in range(count)
        ]
        bare_url = f"redis://:{passwords.service}@127.0.0.1:{port}/{10 + place}"
        stacks.append(CeleryStack(url, bare_url, workers, redis))
    return stacks
