"""The result store: each result file appears whole under its name, answers shared between jobs
are hard links, and whatever the file system refuses falls back to a file of its own."""

from __future__ import annotations

import errno
import os
import shutil
import threading

import pytest

from app.embedded_engine.store import SHARED_FOLDER, ResultStore


def test_a_result_file_appears_whole_under_its_name_and_nothing_else_is_created(tmp_path):
    """One directory entry per result: the file is written unnamed, then linked in whole."""
    store = ResultStore(tmp_path)
    body = b'{"status":"done","data":' + b"1" * 100_000 + b"}"
    store.write(7, body)
    assert {p.name for p in tmp_path.iterdir()} == {"job_id_7.json"}
    assert store.read(7) == body
    assert oct((tmp_path / "job_id_7.json").stat().st_mode & 0o777) == oct(0o644)


def test_a_result_written_again_replaces_the_earlier_file(tmp_path):
    """A job run again after a crash finds its first result file there: the new one wins."""
    store = ResultStore(tmp_path)
    store.write(3, b"first")
    store.write(3, b"second")
    assert store.read(3) == b"second"
    assert {p.name for p in tmp_path.iterdir()} == {"job_id_3.json"}


def test_results_are_written_with_a_temporary_name_where_unnamed_files_are_not_supported(
    tmp_path, monkeypatch
):
    """File systems without O_TMPFILE get the temporary file and rename, once told so."""
    store = ResultStore(tmp_path)
    real_open = os.open
    calls = []

    def no_tmpfile(path, flags, *args, **kwargs):
        if flags & os.O_TMPFILE == os.O_TMPFILE:
            calls.append(path)
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_tmpfile)
    store.write(1, b"one")
    store.write(2, b"two")
    assert (store.read(1), store.read(2)) == (b"one", b"two")
    assert len(calls) == 1  # asked once, then not again
    assert {p.name for p in tmp_path.iterdir()} == {"job_id_1.json", "job_id_2.json"}


def test_a_result_is_never_seen_partly_written(tmp_path):
    """A reader polling while large results are written sees no file or the whole of it."""
    store = ResultStore(tmp_path)
    body = b"x" * 1_000_000
    seen: set[int] = set()
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            for number in range(20):
                found = store.read(number)
                if found is not None:
                    seen.add(len(found))

    thread = threading.Thread(target=reader)
    thread.start()
    for number in range(20):
        store.write(number, body)
    done.set()
    thread.join()
    assert seen <= {len(body)}


def _names(folder) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_shared_answer_is_linked_under_each_name_read_only(tmp_path):
    store = ResultStore(tmp_path)
    one, two = b'{"status":"done","data":1}', b'{"status":"done","data":2}'
    for number, body in ((1, one), (2, one), (3, two)):
        store.write(number, body, shared=True)
    assert [store.read(n) for n in (1, 2, 3)] == [one, one, two]
    stats = [(tmp_path / f"job_id_{n}.json").stat() for n in (1, 2, 3)]
    assert stats[0].st_ino == stats[1].st_ino != stats[2].st_ino
    assert stats[0].st_nlink == 3  # two jobs and the answer's own name
    assert {oct(s.st_mode & 0o777) for s in stats} == {oct(0o444)}
    assert _names(tmp_path) == {"job_id_1.json", "job_id_2.json", "job_id_3.json", SHARED_FOLDER}
    assert len(_names(tmp_path / SHARED_FOLDER)) == 2


def test_an_answer_file_found_with_other_content_is_replaced_before_it_is_linked(tmp_path):
    """A file under an answer's name that does not hold that answer (damaged, or put there by
    hand) is never linked as a job's result."""
    ResultStore(tmp_path).write(1, b"right", shared=True)
    (answer,) = (tmp_path / SHARED_FOLDER).iterdir()
    (tmp_path / "job_id_1.json").unlink()
    answer.chmod(0o644)
    answer.write_bytes(b"wrong")
    store = ResultStore(tmp_path)  # a new process: it does not know the file yet
    store.write(2, b"right", shared=True)
    assert store.read(2) == b"right"
    assert answer.read_bytes() == b"right"


def test_an_answer_file_linked_to_the_limit_is_followed_by_a_new_one(tmp_path, monkeypatch):
    """ext4 allows 65,000 links to a file: past that, the answer gets a fresh file, and the jobs
    linked to the old one keep their results."""
    store = ResultStore(tmp_path)
    store.write(1, b"answer", shared=True)
    real_link = os.link
    refused = []

    def full_once(*args, **kwargs):
        if not refused:
            refused.append(args)
            raise OSError(errno.EMLINK, "Too many links")
        return real_link(*args, **kwargs)

    monkeypatch.setattr(os, "link", full_once)
    store.write(2, b"answer", shared=True)
    assert refused and store.read(1) == store.read(2) == b"answer"
    first, second = ((tmp_path / f"job_id_{n}.json").stat().st_ino for n in (1, 2))
    assert first != second
    assert len(_names(tmp_path / SHARED_FOLDER)) == 1


@pytest.mark.parametrize("removed", ["file", "folder"])
def test_a_removed_answer_file_is_made_again(tmp_path, removed, monkeypatch):
    store = ResultStore(tmp_path)
    store.write(1, b"answer", shared=True)
    if removed == "file":
        for path in (tmp_path / SHARED_FOLDER).iterdir():
            path.unlink()
    else:
        shutil.rmtree(tmp_path / SHARED_FOLDER)
    links = []
    real_link = os.link
    monkeypatch.setattr(os, "link", lambda *a, **k: links.append(a) or real_link(*a, **k))
    for number in (2, 3):
        store.write(number, b"answer", shared=True)
    assert store.read(2) == store.read(3) == b"answer"
    assert len(_names(tmp_path / SHARED_FOLDER)) == 1
    assert len(links) == 3  # one failed try for job 2, then one link per job
    assert (tmp_path / "job_id_3.json").stat().st_nlink == 3


def test_where_hard_links_are_refused_each_result_is_a_file_of_its_own(tmp_path, monkeypatch):
    """A file system without hard links (EPERM) gets plain result files, once told so."""
    store = ResultStore(tmp_path)
    real_link = os.link
    refused = []

    def no_links(source, target, *, src_dir_fd=None, **kwargs):
        if src_dir_fd is not None:
            refused.append(source)
            raise OSError(errno.EPERM, "Operation not permitted")
        return real_link(source, target, src_dir_fd=src_dir_fd, **kwargs)

    monkeypatch.setattr(os, "link", no_links)
    for number in (1, 2, 3):
        store.write(number, b"answer", shared=True)
    assert [store.read(n) for n in (1, 2, 3)] == [b"answer"] * 3
    assert len(refused) == 1  # asked once, then not again
    assert len({(tmp_path / f"job_id_{n}.json").stat().st_ino for n in (1, 2, 3)}) == 3


def test_a_shared_answer_folder_that_cannot_be_used_leaves_each_result_a_file(tmp_path):
    """Something else under the shared folder's name: answers are written whole, none is lost."""
    (tmp_path / SHARED_FOLDER).write_bytes(b"not a folder")
    store = ResultStore(tmp_path)
    for number in (1, 2):
        store.write(number, b"answer", shared=True)
    assert store.read(1) == store.read(2) == b"answer"
    assert (tmp_path / "job_id_1.json").stat().st_nlink == 1


def test_a_job_run_again_replaces_its_shared_result(tmp_path):
    store = ResultStore(tmp_path)
    store.write(3, b"first", shared=True)
    store.write(3, b"second", shared=True)
    assert store.read(3) == b"second"
    store.write(3, b"first", shared=True)
    assert store.read(3) == b"first"
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_answer_files_that_no_result_links_to_are_swept(tmp_path):
    store = ResultStore(tmp_path)
    for number, body in ((1, b"one"), (2, b"one"), (3, b"two")):
        store.write(number, body, shared=True)
    store.sweep()
    assert len(_names(tmp_path / SHARED_FOLDER)) == 2  # both still linked to
    store.delete(1)
    store.delete(2)
    store.sweep()
    assert len(_names(tmp_path / SHARED_FOLDER)) == 1
    store.write(4, b"one", shared=True)  # its file is made again
    assert store.read(4) == b"one"


@pytest.mark.parametrize("shared", [False, True])
def test_results_go_to_a_results_folder_made_again_under_the_same_name(tmp_path, shared):
    """The folder removed and made again while the server runs: later results land in it."""
    folder = tmp_path / "results"
    store = ResultStore(folder)
    store.prepare()
    store.write(1, b"one", shared=shared)
    shutil.rmtree(folder)
    folder.mkdir()
    store.write(2, b"one", shared=shared)
    store.write(3, b"three", shared=shared)
    assert {p.name for p in folder.glob("*.json")} == {"job_id_2.json", "job_id_3.json"}
    assert (store.read(2), store.read(3)) == (b"one", b"three")
