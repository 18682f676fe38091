"""The benchmark waits for the file system to recover from a mass deletion before measuring."""

from __future__ import annotations

import pytest

from bench.lab import settle


def test_creating_a_file_is_measured_in_a_folder_of_its_own(tmp_path) -> None:
    cost = settle.file_create_us(tmp_path)
    assert 0 < cost < 100_000
    (probe,) = tmp_path.iterdir()
    assert len(list(probe.iterdir())) == settle._PROBE_FILES


def test_it_waits_while_creating_a_file_is_slow_and_not_longer(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probes = iter([900.0, 700.0, 40.0, 40.0])
    slept: list[float] = []
    monkeypatch.setattr(settle, "file_create_us", lambda folder: next(probes))
    monkeypatch.setattr(settle.time, "sleep", slept.append)
    logged: list[str] = []
    settle.wait_quiet(tmp_path, 0.5, logged.append)
    assert slept == [10, 10, 0.5]  # two waits for the file system, then the settling pause
    assert len(logged) == 2 and "900 µs" in logged[0]


def test_it_gives_up_waiting_after_the_longest_wait(tmp_path, monkeypatch) -> None:
    clock = iter(range(0, 10_000, 100))
    monkeypatch.setattr(settle.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(settle, "file_create_us", lambda folder: 900.0)
    monkeypatch.setattr(settle.time, "sleep", lambda seconds: None)
    logged: list[str] = []
    waited = settle.wait_quiet(tmp_path, 0, logged.append)
    assert waited >= settle.MAX_WAIT_S
    assert "measuring anyway" in logged[-1]


def test_a_wait_for_the_file_system_is_noted_for_the_report(tmp_path, monkeypatch) -> None:
    waits = iter([0.0, 25.0])
    monkeypatch.setattr(settle, "wait_quiet", lambda folder, log: next(waits))
    notes: list[str] = []
    settle.settle(tmp_path, notes, print)
    assert notes == []  # no wait worth a note
    settle.settle(tmp_path, notes, print)
    assert notes == ["waited 25 s for file creation to be fast again"]
