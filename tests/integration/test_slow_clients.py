"""D11: slow and silent clients are dropped within a bound, in both async modes (short limits
here; bench/slow_clients.py measures 400 + 500 with the defaults, docs/SECURITY.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.slow_clients import run
from tests.live_server import LiveServer

LIMITS = {
    "YIHAO_HEADER_TIMEOUT_S": "1",
    "YIHAO_BODY_TIMEOUT_S": "1",
    "YIHAO_PING_INTERVAL_S": "1",
    "YIHAO_PING_TIMEOUT_S": "1",
}


@pytest.mark.parametrize("mode", ["threading", "gevent"])
def test_slowloris_and_silent_socketio_clients_are_dropped(tmp_path: Path, mode: str) -> None:
    server = LiveServer(tmp_path, "--async-mode", mode, "--no-scheduler", env=LIMITS)
    with server:
        closed = run(server.url, slowloris=20, silent=20, seconds=15, drip_s=0.3, pid=None)
        # Headers: 1 s in all (+ the watcher's half-second tick), however the bytes dribble.
        assert max(closed["slowloris"]) < 3, closed["slowloris"]
        # Silent: nothing read for ping interval + timeout + 5 s (7 s) → the socket gives up.
        assert max(closed["silent"]) < 9, closed["silent"]
        assert server.get("/healthz").status_code == 200  # and the server still serves
