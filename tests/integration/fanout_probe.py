"""Run by test_fanout.py as `python -m tests.integration.fanout_probe DB_URL`: Yihao under
gevent in this process (as `run.py --async-mode gevent` serves it), five /display screens,
five calls; prints one JSON line saying what the screens received and how the client
manager delivered the broadcasts, which only this process can see."""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
import socketio  # noqa: E402

from queue_server import create_app  # noqa: E402
from queue_server.serving import Limits, serve_gevent  # noqa: E402
from tests.live_server import free_port  # noqa: E402

SCREENS = 5
CALLS = 5


def main(database_url: str) -> dict[str, Any]:
    app = create_app(
        {"DATABASE_URL": database_url, "ASYNC_MODE": "gevent", "SECRET_KEY": "probe-secret"}
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    limits = Limits.of(app.extensions["yihao"].settings)
    gevent.spawn(serve_gevent, app, "127.0.0.1", port, limits)
    gevent.sleep(0.2)
    received: list[list[str]] = []
    screens = []
    for _ in range(SCREENS):
        calls: list[str] = []
        received.append(calls)
        screen = socketio.Client(reconnection=False)
        screen.on("call", lambda payload, calls=calls: calls.append(payload["number"]), "/display")
        screen.connect(url, namespaces=["/display"], transports=["websocket"])
        screens.append(screen)
    token = requests.post(
        url + "/api/v1/auth/login", json={"username": "clerk01", "password": "demo"}, timeout=10
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    requests.post(url + "/api/v1/counters/1/sign-in", headers=headers, timeout=10)
    called = []
    for _ in range(CALLS):
        requests.post(url + "/api/v1/tickets", json={"service": "employment"}, timeout=10)
        response = requests.post(url + "/api/v1/counters/1/call-next", headers=headers, timeout=10)
        called.append(response.json()["ticket"]["number"])
        requests.post(url + "/api/v1/counters/1/finish", headers=headers, timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(len(calls) < CALLS for calls in received):
        gevent.sleep(0.05)
    manager = app.extensions["yihao"].socketio.server.manager
    result = {
        "called": called,
        "received": received,
        "direct_frames": manager.direct_frames,
        "queued_frames": manager.queued_frames,
        "manager": type(manager).__name__,
    }
    for screen in screens:
        gevent.spawn(screen.disconnect)
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])), flush=True)
    sys.exit(0)
