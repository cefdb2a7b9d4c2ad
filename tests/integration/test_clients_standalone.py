"""The stand-alone clients in a venv of their own: `python -m ticket_printer.agent` and
`python -m counter_client` run from the source checkout with only requirements-client.txt
installed (no system site-packages), against a real server, as on a kiosk PC or a clerk's PC.

The venv is built once per content of requirements-client.txt and Python version, and kept
under ~/.cache/yihao-test-venvs (or $YIHAO_TEST_VENVS), so reruns take seconds. Under CI=true
a venv that cannot be built fails the test; elsewhere (say, offline) it skips."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.integration.test_print_agent import CUT, TOKEN, hall_file, stop, wait_for_states
from tests.live_server import ROOT, LiveServer
from tests.printer_emulator import PrinterEmulator

REQUIREMENTS = ROOT / "requirements-client.txt"
VENVS = Path(os.environ.get("YIHAO_TEST_VENVS") or Path.home() / ".cache" / "yihao-test-venvs")
SERVER_PACKAGES = ("flask", "flask_socketio", "sqlalchemy", "alembic", "pydantic", "redis")

pytestmark = pytest.mark.timeout(900)  # the first run installs from PyPI


def venv_env(**extra: str) -> dict[str, str]:
    """A bare environment: nothing leaks in from the test's own (no PYTHONPATH)."""
    return {"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8", **extra}


def build_venv(home: Path) -> str | None:
    """Builds the venv at `home`; the installer's complaint when it cannot."""
    shutil.rmtree(home, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True, timeout=300)
    install = subprocess.run(
        [
            str(home / "bin" / "python"),
            "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
            "-r", str(REQUIREMENTS),
        ],
        capture_output=True,
        text=True,
        env=venv_env(HOME=str(Path.home())),  # pip's own download cache
        timeout=800,
        check=False,
    )  # fmt: skip
    if install.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        return install.stdout + install.stderr
    return None


@pytest.fixture(scope="module")
def client_python() -> str:
    """The python of a venv holding requirements-client.txt and nothing else."""
    digest = hashlib.sha256(
        REQUIREMENTS.read_bytes() + sys.implementation.cache_tag.encode()
    ).hexdigest()[:16]
    home = VENVS / f"client-{digest}"
    ready = home / "ready"
    VENVS.mkdir(parents=True, exist_ok=True)
    with (VENVS / f"client-{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time, also across test runs
        if not ready.exists():
            problem = build_venv(home)
            if problem is not None:
                message = f"cannot install requirements-client.txt into a venv:\n{problem}"
                if IN_CI:
                    pytest.fail(message)
                pytest.skip(message)
            ready.write_text(REQUIREMENTS.read_text(encoding="utf-8"), encoding="utf-8")
    return str(home / "bin" / "python")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("standalone")
    with LiveServer(workdir, "--no-scheduler", "--config", str(hall_file(workdir))) as live:
        yield live


def tickets_printed(
    printer: PrinterEmulator, count: int, until_exit: subprocess.Popen[bytes], timeout: float = 20
) -> list[bytes]:
    """The tickets on the emulator's paper once there are `count`; fails at once when the
    agent has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and until_exit.poll() is None:
        printed = [job for job in printer.connections if CUT in job]
        if len(printed) >= count:
            return printed
        time.sleep(0.05)
    raise AssertionError(f"not {count} tickets printed (agent exit status {until_exit.poll()})")


def run_in_venv(python: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=venv_env(),
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("package", SERVER_PACKAGES)
def test_the_venv_has_no_server_package(client_python: str, package: str) -> None:
    result = run_in_venv(client_python, f"import {package}")
    assert result.returncode != 0
    assert f"No module named '{package}'" in result.stderr


def test_the_clients_import_nothing_of_the_server_but_the_protocol(client_python: str) -> None:
    code = (
        "import sys, ticket_printer.agent, counter_client.__main__\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'queue_server')))"
    )
    result = run_in_venv(client_python, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["queue_server", "queue_server.protocol"]


def test_the_print_agent_prints_a_ticket(
    client_python: str, server: LiveServer, tmp_path: Path
) -> None:
    log_path = tmp_path / "agent.log"
    with PrinterEmulator() as printer, log_path.open("ab") as log:
        agent = subprocess.Popen(
            [
                client_python, "-m", "ticket_printer.agent",
                "--server", server.url, "--kiosk", "K1", "--printer", printer.url,
            ],
            cwd=ROOT,
            env=venv_env(YIHAO_KIOSK_TOKEN=TOKEN),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            taken = server.post("/api/v1/tickets", {"service": "employment", "kiosk": "K1"})
            assert taken.status_code == 201, taken.text
            [ticket] = tickets_printed(printer, 1, until_exit=agent)
            assert taken.json()["ticket"]["number"].encode() in ticket
            wait_for_states(server, ["printed"])  # acknowledged
        except AssertionError as error:
            output = log_path.read_text(errors="replace")
            raise AssertionError(f"{error}\nthe agent's log:\n{output}") from None
        finally:
            stop(agent)
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output, output


def test_the_terminal_client_signs_in_calls_and_quits(
    client_python: str, server: LiveServer
) -> None:
    taken = server.post("/api/v1/tickets", {"service": "maternity"})
    assert taken.status_code == 201, taken.text
    number = taken.json()["ticket"]["number"]
    result = subprocess.run(
        [
            client_python, "-m", "counter_client",
            "--server", server.url, "--counter", "8", "--user", "clerk08",
        ],
        input="n\nf\nq\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=venv_env(YIHAO_PASSWORD="demo"),
        cwd=ROOT,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "已签到 8号窗口" in result.stdout
    assert f"✓ 已叫 {number}" in result.stdout
    assert f"✓ {number} 已完成" in result.stdout
    assert "已签退 8号窗口" in result.stdout
    assert result.stderr == ""  # the live connection (WebSocket) came up: nothing went wrong
    ticket = server.get(f"/api/v1/tickets/{taken.json()['ticket']['id']}").json()["ticket"]
    assert ticket["state"] == "done"
