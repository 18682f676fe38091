"""What a job's durable records cost, measured in-process with the service's own code.

A job costs the journal one insert when it is accepted and one update when it ends, and its
share of the checkpoints that copy the log back into the database; measured alone (one thread:
the bare cost) and with 4 threads at once (as the server's request threads call it, group
commits included). It also costs one result file: a link to its answer's file when jobs share
the answer (as every answered job does), else a file of its own, written unnamed and linked into
place (a failure's answer). In wall-clock and CPU microseconds per job.
"""

from __future__ import annotations

import resource
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from app.embedded_engine import journal
from app.embedded_engine.engine import CHECKPOINT_EVERY_S
from app.embedded_engine.store import ResultStore
from app.engine.interface import done_body
from app.engine.job import JobStatus

REQUEST = {
    "question": "Percent of adults aged 18 years and older who have obesity",
    "state": "Ohio",
}


@dataclass
class JournalCost:
    """Microseconds per job: journal (accept + finish), alone and with several threads, and the
    result file."""

    jobs: int
    threads: int
    alone_wall_us: float
    alone_cpu_us: float
    shared_wall_us: float
    shared_cpu_us: float
    file_wall_us: float = 0.0
    file_cpu_us: float = 0.0
    link_wall_us: float = 0.0
    link_cpu_us: float = 0.0


def _jobs(book: journal.Journal, count: int) -> None:
    for _ in range(count):
        number = book.accept("state_mean", REQUEST, "0:0:0", time.time())
        now = time.time()
        book.finish_many([(number, JobStatus.DONE, now, now, None)])


def _timed(book: journal.Journal, threads: int, per_thread: int) -> tuple[float, float]:
    """(wall, CPU) microseconds per job with `threads` threads of `per_thread` jobs each, and
    the checkpoints the service's maintenance thread makes meanwhile."""
    workers = [threading.Thread(target=_jobs, args=(book, per_thread)) for _ in range(threads)]
    done = threading.Event()

    def checkpoints() -> None:
        while not done.wait(CHECKPOINT_EVERY_S):
            book.checkpoint()

    checkpointer = threading.Thread(target=checkpoints)
    cpu, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    checkpointer.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    done.set()
    checkpointer.join()
    book.checkpoint()  # what is left in the log is this run's too
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    jobs = threads * per_thread
    return 1e6 * wall / jobs, 1e6 * cpu_s / jobs


def _files(store: ResultStore, count: int, first: int, shared: bool) -> tuple[float, float]:
    """(wall, CPU) microseconds per result file written (`shared`: linked to its answer's)."""
    body = done_body({"Ohio": 31.49142857142857})
    cpu, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for number in range(first, first + count):
        store.write(number, body, shared=shared)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    return 1e6 * wall / count, 1e6 * cpu_s / count


def measure(jobs: int = 8000, threads: int = 4) -> JournalCost:
    """Costs per job in a fresh journal and results folder (in a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="lss-job-costs-") as folder:
        path = str(Path(folder) / "jobs.sqlite3")
        journal.prepare(path, [], 0)
        book = journal.Journal(path)
        _jobs(book, 500)  # warm: statement caches, the file's first pages
        alone = _timed(book, 1, jobs)
        shared = _timed(book, threads, jobs // threads)
        book.close()
        store = ResultStore(Path(folder) / "results")
        store.prepare()
        files = _files(store, jobs, 1, shared=False)
        links = _files(store, jobs, jobs + 1, shared=True)
    return JournalCost(jobs, threads, *alone, *shared, *files, *links)
