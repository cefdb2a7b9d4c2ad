"""Run by test_websocket_transport.py as `python -m tests.integration.plain_pywsgi_probe DB`:
Yihao under gevent behind gevent's plain WSGI server (not `serving.serve_gevent`, so the
environ carries no socket for Yihao's transport), one /display screen over WebSocket; prints
one JSON line saying whether the screen got its snapshot and a call, and how."""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
import socketio  # noqa: E402
from gevent import pywsgi  # noqa: E402

from queue_server import create_app  # noqa: E402
from tests.live_server import free_port  # noqa: E402


def main(database_url: str) -> dict[str, Any]:
    app = create_app(
        {"DATABASE_URL": database_url, "ASYNC_MODE": "gevent", "SECRET_KEY": "probe-secret"}
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = pywsgi.WSGIServer(("127.0.0.1", port), app, log=None)
    gevent.spawn(server.serve_forever)
    gevent.sleep(0.2)
    got: dict[str, list[Any]] = {"snapshot": [], "call": []}
    screen = socketio.Client(reconnection=False)
    screen.on("snapshot", got["snapshot"].append, "/display")
    screen.on("call", got["call"].append, "/display")
    screen.connect(url, namespaces=["/display"], transports=["websocket"])
    manager = app.extensions["yihao"].socketio.server.manager
    registered = len(manager.websockets)  # screens on Yihao's transport: none expected
    token = requests.post(
        url + "/api/v1/auth/login", json={"username": "clerk01", "password": "demo"}, timeout=10
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    requests.post(url + "/api/v1/counters/1/sign-in", headers=headers, timeout=10)
    requests.post(url + "/api/v1/tickets", json={"service": "employment"}, timeout=10)
    called = requests.post(url + "/api/v1/counters/1/call-next", headers=headers, timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not got["call"]:
        gevent.sleep(0.05)
    result = {
        "snapshot": len(got["snapshot"]),
        "calls": [call["number"] for call in got["call"]],
        "called": called.json()["ticket"]["number"],
        "registered": registered,
        "queued_frames": manager.queued_frames,
    }
    gevent.spawn(screen.disconnect)
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])), flush=True)
    sys.exit(0)
