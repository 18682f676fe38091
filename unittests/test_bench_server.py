"""The benchmark's memory sampler: it must not take the CPU of the servers it is not measuring."""

from __future__ import annotations

import time

from bench.server import MemorySampler


class _Growing:
    """Stands in for a server: each look at its memory finds more of it."""

    def __init__(self) -> None:
        self.looks = 0

    def rss(self) -> int:
        self.looks += 1
        return self.looks * 1000


def test_memory_is_sampled_only_while_its_server_is_measured() -> None:
    server = _Growing()
    sampler = MemorySampler(server, interval=0.01)  # type: ignore[arg-type]
    time.sleep(0.2)
    assert server.looks == 1  # once at the start, then not while idle
    with sampler.measuring():
        time.sleep(0.2)
    measured = server.looks
    assert measured >= 5  # several times while measured, and once at its end
    time.sleep(0.2)
    assert server.looks == measured  # idle again
    assert sampler.peak == server.looks * 1000
