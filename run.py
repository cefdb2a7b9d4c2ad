"""Start one Yihao process: the app, Socket.IO and (unless --no-scheduler) the scheduler.

python run.py                      # http://127.0.0.1:5000, SQLite, the demo hall
python run.py --database postgresql://postgres@127.0.0.1/test --message-queue redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
from typing import Any

ENV_HELP = "(env {})"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python run.py", description="Yihao (一号) queue server")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    parser.add_argument("--config", help="YAML hall file " + ENV_HELP.format("YIHAO_CONFIG"))
    parser.add_argument(
        "--database",
        help="database URL, default SQLite under instance/ "
        + ENV_HELP.format("YIHAO_DATABASE_URL"),
    )
    parser.add_argument(
        "--message-queue",
        help="e.g. redis://127.0.0.1:6379/0, for several processes "
        + ENV_HELP.format("YIHAO_MESSAGE_QUEUE"),
    )
    parser.add_argument(
        "--async-mode",
        choices=("threading", "gevent"),
        help="Socket.IO server mode (default threading) " + ENV_HELP.format("YIHAO_ASYNC_MODE"),
    )
    parser.add_argument(
        "--no-scheduler", action="store_true", help="run no scheduled jobs in this process"
    )
    parser.add_argument(
        "--public-url",
        help="address printed in QR codes and status_url " + ENV_HELP.format("YIHAO_PUBLIC_URL"),
    )
    parser.add_argument(
        "--printer",
        help="printer of kiosk K1: tcp://HOST:9100, usb://VID:PID, "
        "serial:///dev/ttyUSB0?baudrate=9600, file:///dev/usb/lp0, dummy:// "
        + ENV_HELP.format("YIHAO_PRINTER"),
    )
    return parser.parse_args(argv)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    async_mode = args.async_mode or os.environ.get("YIHAO_ASYNC_MODE") or "threading"
    if async_mode == "gevent":
        # Before anything imports socket, threading or the database drivers.
        from gevent import monkey

        monkey.patch_all()
    from queue_server import create_app
    from queue_server.config import ConfigError

    overrides: dict[str, Any] = {"START_BACKGROUND": True, "ASYNC_MODE": async_mode}
    for option, key in (
        ("config", "CONFIG"),
        ("database", "DATABASE_URL"),
        ("message_queue", "MESSAGE_QUEUE"),
        ("public_url", "PUBLIC_URL"),
        ("printer", "PRINTER"),
    ):
        if getattr(args, option):
            overrides[key] = getattr(args, option)
    try:
        app = create_app(overrides)
    except ConfigError as error:
        print(f"yihao: {error}", file=sys.stderr)
        return 2
    extension = app.extensions["yihao"]
    demo_users = extension.staff.users_with_demo_password()
    if demo_users and not is_loopback(args.host):
        print(
            f"yihao: refusing to listen on {args.host}: users {', '.join(demo_users)} "
            "still have the demo password 'demo'. Give them real password hashes in the hall file "
            "(password_hash), or listen on 127.0.0.1 only.",
            file=sys.stderr,
        )
        return 2
    scheduler = None
    if not args.no_scheduler:
        from queue_server.scheduler import start_scheduler

        scheduler = start_scheduler(app)
    print(f"Yihao serving on http://{args.host}:{args.port}", flush=True)
    try:
        extension.socketio.run(
            app,
            host=args.host,
            port=args.port,
            allow_unsafe_werkzeug=True,
            use_reloader=False,
            log_output=False,
        )
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
