"""docs/DEPLOYMENT.md's nginx configuration, taken from the document itself, in front of two
`run.py --async-mode gevent` processes on PostgreSQL and Redis, as a newcomer would set
them up: requests and WebSockets through nginx reach both processes, numbers stay
distinct, and a call made through nginx reaches screens connected through nginx."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.conftest import IN_CI, postgres_and_redis, reset_postgres
from tests.live_server import ROOT, LiveServer, free_port, processes_on

pytestmark = pytest.mark.postgres

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def documented_site(upstream_ports: tuple[int, int], listen_port: int) -> str:
    """The ```nginx block of docs/DEPLOYMENT.md with this machine's ports."""
    document = (ROOT / "docs" / "DEPLOYMENT.md").read_text("utf-8")
    blocks = re.findall(r"```nginx\n(.*?)```", document, flags=re.S)
    assert len(blocks) == 1, "DEPLOYMENT.md holds one nginx configuration"
    site = blocks[0]
    for documented, port in zip(("127.0.0.1:5001", "127.0.0.1:5002"), upstream_ports, strict=True):
        assert documented in site
        site = site.replace(documented, f"127.0.0.1:{port}")
    assert "listen 80;" in site
    return site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")


@contextmanager
def running_nginx(workdir: Path, site: str, listen: int) -> Iterator[str]:
    """nginx with `site` inside a minimal http block, in `workdir`; yields its URL once it
    answers /healthz."""
    conf = workdir / "nginx.conf"
    conf.write_text(
        "worker_processes 1;\n"
        f"pid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/nginx-error.log;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "  log_format upstreams '$request_uri $upstream_addr $status';\n"
        f"  access_log {workdir}/nginx-access.log upstreams;\n"
        f"  client_body_temp_path {workdir}/body;\n"
        f"  proxy_temp_path {workdir}/proxy;\n" + site + "\n}\n",
        "utf-8",
    )
    stderr = workdir / "nginx-stderr.log"
    with stderr.open("wb") as log:
        nginx = subprocess.Popen(
            [NGINX, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{listen}"
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    if requests.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert nginx.poll() is None, stderr.read_text()
                assert time.monotonic() < deadline, "nginx did not answer"
                time.sleep(0.1)
            yield url
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


@pytest.fixture(scope="module")
def behind_nginx(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, list[LiveServer]]]:
    if not Path(NGINX).exists():
        if IN_CI:
            pytest.fail("nginx is missing: .ci/run installs it (apt-get install -y nginx)")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    postgres_url, redis_url = postgres_and_redis()
    reset_postgres(postgres_url)
    workdir = tmp_path_factory.mktemp("nginx")
    gevent = {"YIHAO_ASYNC_MODE": "gevent"}
    with processes_on(workdir, postgres_url, redis_url, env=gevent) as servers:
        listen = free_port()
        site = documented_site((servers[0].port, servers[1].port), listen)
        with running_nginx(workdir, site, listen) as url:
            yield url, servers


def test_tickets_through_nginx_get_distinct_numbers(
    behind_nginx: tuple[str, list[LiveServer]],
) -> None:
    url, _ = behind_nginx
    numbers = []
    for _ in range(20):
        response = requests.post(
            url + "/api/v1/tickets", json={"service": "employment"}, timeout=10
        )
        assert response.status_code == 201, response.text
        numbers.append(response.json()["ticket"]["number"])
    assert sorted(numbers) == [f"A{index:03d}" for index in range(1, 21)]


def test_a_call_through_nginx_reaches_screens_connected_through_nginx(
    behind_nginx: tuple[str, list[LiveServer]],
) -> None:
    """nginx's round robin gives consecutive WebSockets to alternate processes, so of four
    screens two sit on the process that did not take the call-next."""
    url, servers = behind_nginx
    screens: list[tuple[socketio.Client, list[dict[str, Any]], threading.Event]] = []
    for _ in range(4):
        calls: list[dict[str, Any]] = []
        arrived = threading.Event()
        screen = socketio.Client(reconnection=False)

        def on_call(payload: dict[str, Any], calls: Any = calls, arrived: Any = arrived) -> None:
            calls.append(payload)
            arrived.set()

        screen.on("call", on_call, namespace="/display")
        screen.connect(url, namespaces=["/display"], transports=["websocket"])
        screens.append((screen, calls, arrived))
    try:
        ticket = requests.post(
            url + "/api/v1/tickets", json={"service": "maternity"}, timeout=10
        ).json()["ticket"]
        token = requests.post(
            url + "/api/v1/auth/login",
            json={"username": "clerk08", "password": "demo"},
            timeout=10,
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.post(url + "/api/v1/counters/8/sign-in", headers=headers, timeout=10).ok
        called = requests.post(url + "/api/v1/counters/8/call-next", headers=headers, timeout=10)
        assert called.status_code == 200, called.text
        for _, calls, arrived in screens:
            assert arrived.wait(5), "every screen behind nginx got the call"
            assert calls[0]["number"] == ticket["number"]
    finally:
        closing = [threading.Thread(target=screen.disconnect) for screen, _, _ in screens]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join()
    # nginx logs a WebSocket when it closes: the screens were spread over both processes,
    # so the call went from one process to the screens of the other through Redis.
    time.sleep(0.3)
    log = (servers[0].log_path.parent / "nginx-access.log").read_text()
    ports = {
        line.split()[1].rsplit(":", 1)[1]
        for line in log.splitlines()
        if line.startswith("/socket.io/") and line.split()[2] == "101"
    }
    assert ports == {str(server.port) for server in servers}
