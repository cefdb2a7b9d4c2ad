"""A real `python run.py` in a subprocess, on a free loopback port, with its own database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def process_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command's name (state, parent, …; Linux),
    None once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """Whether the process runs (an exited one waiting to be reaped does not)."""
    fields = process_stat(pid)
    return fields is not None and fields[0] != "Z"


def child_pids(parent: int) -> list[int]:
    """The running children of `parent` (a server's estimator process, for one)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = process_stat(int(entry.name))
            if fields is not None and fields[0] != "Z" and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    def __init__(
        self,
        workdir: Path,
        *extra_args: str,
        port: int | None = None,
        database: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = database or f"sqlite:///{workdir / 'live.sqlite3'}"
        self.extra_args = list(extra_args)
        self.log_path = workdir / f"server-{self.port}.log"
        self.env = {**os.environ, "YIHAO_SECRET_KEY": "live-test-secret", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self, timeout: float = 20.0) -> LiveServer:
        self._log = log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "run.py"),
                "--port",
                str(self.port),
                "--database",
                self.database,
                *self.extra_args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"server exited: {self.log_path.read_text(errors='replace')}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log_path.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- a small API client ------------------------------------------------------------
    def login(self, username: str, password: str = "demo") -> str:
        response = requests.post(
            self.url + "/api/v1/auth/login",
            json={"username": username, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["token"])

    def post(self, path: str, json: Any = None, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(self.url + path, json=json, headers=headers, timeout=10)

    def get(self, path: str, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=10)


@contextmanager
def processes_on(
    workdir: Path,
    database: str,
    message_queue: str,
    *extra_args: str,
    count: int = 2,
    env: dict[str, str] | None = None,
) -> Iterator[list[LiveServer]]:
    """`count` run.py processes on one database and one message queue, on a channel of
    their own; only the first runs the scheduler. All are stopped on the way out, also when
    one of them fails to start."""
    env = {"YIHAO_MESSAGE_QUEUE_CHANNEL": f"yihao-test-{uuid.uuid4().hex[:12]}", **(env or {})}
    servers: list[LiveServer] = []
    try:
        for index in range(count):
            args = [*extra_args, "--message-queue", message_queue]
            if index:
                args.append("--no-scheduler")
            servers.append(LiveServer(workdir, *args, database=database, env=env).start())
        yield servers
    finally:
        for server in servers:
            server.stop()


def run_probe(module: str, database_url: str) -> dict[str, Any]:
    """Run `python -m module database_url` (a probe serving Yihao in a process of its own)
    and return the JSON report it prints last."""
    result = subprocess.run(
        [sys.executable, "-m", module, database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "YIHAO_SECRET_KEY": "probe-secret"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report
