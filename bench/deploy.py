"""The servers a benchmark part needs: a bench hall file, a fresh database, N processes."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml

from tests.live_server import ROOT, LiveServer, child_pids

POSTGRES_URL = os.environ.get(
    "YIHAO_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test_h7"
)
REDIS_URL = os.environ.get("YIHAO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BENCH_COUNTERS = 30
DEFAULT_MODE = "default"
# `python -m bench --pin`: servers on core 0, the bench and its clients on core 1 (PostgreSQL
# and Redis wherever the kernel puts them), so the clients cannot take the server's core.
PIN_ENV = "YIHAO_BENCH_PIN"
PROFILE_ENV = "YIHAO_BENCH_PROFILE"  # a folder: py-spy samples the servers during a load
SERVER_CORE, CLIENT_CORE = 0, 1


def write_bench_hall(path: Path, counters: int = BENCH_COUNTERS) -> Path:
    """The demo hall with `counters` comprehensive counters ([A, B], fifo) and one clerk each."""
    hall: dict[str, Any] = yaml.safe_load((ROOT / "config" / "demo-hall.yaml").read_text("utf-8"))
    site = hall["sites"][0]
    site["counters"] = [
        {"number": number, "name": "综合窗口", "queues": ["A", "B"], "strategy": "fifo"}
        for number in range(1, counters + 1)
    ]
    clerk = next(user for user in hall["users"] if user["role"] == "clerk")
    others = [user for user in hall["users"] if user["role"] != "clerk"]
    clerks = [
        {
            "username": f"clerk{number:02d}",
            "name": f"职员{number:02d}",
            "role": "clerk",
            "clerk_no": f"RS{number:03d}",
            "counter": number,
            "password_hash": clerk["password_hash"],
        }
        for number in range(1, counters + 1)
    ]
    hall["users"] = clerks + others
    path.write_text(yaml.safe_dump(hall, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def reset_postgres(url: str = POSTGRES_URL) -> None:
    """Create the bench database if missing, then empty it (its own: never `test`)."""
    name = url.rsplit("/", 1)[1]
    assert name not in ("test", "test_core", "postgres"), "the bench needs a database of its own"
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            is None
        ):
            admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


@dataclass(frozen=True)
class Setup:
    """One column of the table: a database kind, a number of processes and an async mode."""

    db: str  # "sqlite" or "postgres"
    processes: int
    async_mode: str  # "default": `run.py` with no mode option, as it comes

    @property
    def label(self) -> str:
        kind = "SQLite" if self.db == "sqlite" else "PG+Redis"
        mode = "run.py as it comes" if self.async_mode == DEFAULT_MODE else self.async_mode
        return f"{kind} ×{self.processes} {mode}"


def cpu_seconds_of(stat: str) -> float:
    """User + system CPU seconds from a process's /proc/<pid>/stat line."""
    utime, stime = stat.rsplit(")", 1)[1].split()[11:13]
    return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


CPU_PARTS = (
    "servers",
    "estimators",
    "PostgreSQL",
    "Redis",
    "the bench's clients",
    "the rest",
)


@dataclass
class Deployment:
    """`with Deployment(setup) as deployment:` — fresh database, N `run.py` processes."""

    setup: Setup
    hall_file: Callable[[Path], Path] = write_bench_hall
    servers: list[LiveServer] = field(default_factory=list)
    final_log: str = ""
    _workdir: Any = None

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def __enter__(self) -> Deployment:
        self._workdir = tempfile.TemporaryDirectory(prefix="yihao-bench-")
        workdir = Path(self._workdir.name)
        hall = self.hall_file(workdir / "bench-hall.yaml")
        args = ["--no-scheduler", "--config", str(hall)]
        env = {"YIHAO_SECRET_KEY": "bench-secret"}
        if self.setup.async_mode != DEFAULT_MODE:
            args += ["--async-mode", self.setup.async_mode]
            env["YIHAO_ASYNC_MODE"] = self.setup.async_mode
        database = None
        if self.setup.db == "postgres":
            reset_postgres()
            database = POSTGRES_URL
            args += ["--message-queue", REDIS_URL]
            env["YIHAO_MESSAGE_QUEUE_CHANNEL"] = f"yihao-bench-{uuid.uuid4().hex[:12]}"
        self.servers = [
            LiveServer(workdir, *args, database=database, env=env)
            for _ in range(self.setup.processes)
        ]
        pinned = os.environ.get(PIN_ENV) == "1"
        mine = os.sched_getaffinity(0)
        try:
            if pinned:  # the servers (and every thread they start) on core 0
                os.sched_setaffinity(0, {SERVER_CORE})
            for server in self.servers:
                server.start(timeout=60)
        except BaseException:
            self.__exit__()
            raise
        finally:
            os.sched_setaffinity(0, mine)
        return self

    def cpu_seconds(self) -> float:
        """CPU time the server processes have used so far (all their threads), and their
        children's (each server's estimator runs in a child process of its own)."""
        total = 0.0
        for server in self.servers:
            assert server.process is not None
            for pid in (server.process.pid, *child_pids(server.process.pid)):
                total += _cpu_seconds_of_pid(pid)
        return total

    def cpu_by_process(self) -> dict[int, tuple[str, float]]:
        """Every process's part of the machine and CPU seconds so far (Linux /proc): the
        servers, their child processes (the estimators), PostgreSQL, Redis, this bench and
        its client processes, the rest; pid 0 is every core's busy time ("machine").
        `cores_by_part` turns two readings into each part's share of the cores."""
        servers = {server.process.pid for server in self.servers if server.process is not None}
        processes: dict[int, tuple[str, int, float]] = {}  # pid -> (name, parent, seconds)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            processes[int(entry.name)] = (name, parent, cpu_seconds_of(stat))
        bench = os.getpid()
        found: dict[int, tuple[str, float]] = {}
        for pid, (name, parent, seconds) in processes.items():
            ancestors = []
            ancestor = parent
            while ancestor in processes and len(ancestors) < 32:
                ancestors.append(ancestor)
                ancestor = processes[ancestor][1]
            if pid in servers:
                part = "servers"
            elif servers & set(ancestors):
                part = "estimators"
            elif name == "postgres":
                part = "PostgreSQL"
            elif name.startswith("redis-server"):
                part = "Redis"
            elif pid == bench or bench in ancestors:
                part = "the bench's clients"
            else:
                part = "the rest"
            found[pid] = (part, seconds)
        with open("/proc/stat") as totals:
            fields = [int(value) for value in totals.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle, iowait
        found[0] = ("machine", (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK"))
        return found

    def profile(self, seconds: float) -> list[subprocess.Popen[bytes]]:
        """With `YIHAO_BENCH_PROFILE=<dir>` set, py-spy samples each server for `seconds`
        (collapsed stacks, one file a process, for a flame graph or a grep); else nothing."""
        folder = os.environ.get(PROFILE_ENV)
        if not folder:
            return []
        Path(folder).mkdir(parents=True, exist_ok=True)
        samplers = []
        for index, server in enumerate(self.servers):
            assert server.process is not None
            samplers.append(
                subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--nonblocking",
                        "--format",
                        "raw",
                        "--duration",
                        str(round(seconds)),
                        "--pid",
                        str(server.process.pid),
                        "--output",
                        str(Path(folder) / f"server{index + 1}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        return samplers

    def __exit__(self, *exc: object) -> None:
        for server in self.servers:
            server.stop()
        self.final_log = self.log_text()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def log_text(self) -> str:
        return "\n".join(
            server.log_path.read_text(errors="replace")
            for server in self.servers
            if server.log_path.exists()
        )


def _cpu_seconds_of_pid(pid: int) -> float:
    try:
        return cpu_seconds_of(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0  # a child gone meanwhile


def cores_by_part(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], seconds: float
) -> dict[str, float]:
    """Each part's share of the cores between two `cpu_by_process` readings: a process
    started between them counts from zero; one that ended counts nothing (a database
    connection closed meanwhile loses its last part)."""
    cores = dict.fromkeys((*CPU_PARTS, "machine"), 0.0)
    for pid, (part, used) in after.items():
        earlier = before.get(pid)
        cores[part] += (used - (earlier[1] if earlier is not None else 0.0)) / seconds
    return cores
