"""Start one Yihao process: the app, Socket.IO and (unless --no-scheduler) the scheduler.

python run.py                      # http://127.0.0.1:5000, SQLite, the demo hall, gevent
python run.py --async-mode threading   # Werkzeug's threaded server, for stepping through code
python run.py --database postgresql://postgres@127.0.0.1/test --message-queue redis://127.0.0.1:6379/0
python run.py db upgrade --database URL   # migrate the schema by hand (start-up does it too)
python run.py simulate --date 2026-12-01  # replay a day in simulated time (--help for what-ifs)
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import os
import socket
import sys
from typing import Any

ENV_HELP = "(env {})"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python run.py",
        description="Yihao (一号) queue server",
        epilog="schema migrations by hand: python run.py db {upgrade,current,revision} --help; "
        "what-if replays: python run.py simulate --help",
    )
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
        help="server mode: gevent (default, the production server) or threading (Werkzeug's "
        "development server, for debugging) " + ENV_HELP.format("YIHAO_ASYNC_MODE"),
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


def parse_db_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python run.py db",
        description="Schema migrations (start-up runs `upgrade` by itself); see docs/migrations.md",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("upgrade", "bring the database's schema to the newest revision"),
        ("current", "print the database's revision and the newest one"),
        ("revision", "write a new revision from the models (autogenerate)"),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--config", help="YAML hall file " + ENV_HELP.format("YIHAO_CONFIG"))
        command.add_argument(
            "--database",
            help="database URL, default SQLite under instance/ "
            + ENV_HELP.format("YIHAO_DATABASE_URL")
            + ("; for `revision`, default a scratch SQLite database" if name == "revision" else ""),
        )
        if name == "revision":
            command.add_argument("-m", "--message", required=True, help="what the revision does")
    return parser.parse_args(argv)


def db_main(argv: list[str]) -> int:
    """`python run.py db upgrade|current|revision`: migrations by hand, no server."""
    import tempfile
    from pathlib import Path

    from queue_server import INSTANCE_DIR, migrations
    from queue_server.config import ConfigError, load_settings
    from queue_server.db import default_sqlite_url, make_engine
    from queue_server.services.setup import schema_lock, upgrade_schema

    args = parse_db_args(argv)
    overrides = {key: value for key, value in (("CONFIG", args.config),) if value}
    if args.database:
        overrides["DATABASE_URL"] = args.database
    try:
        settings = load_settings(overrides)
    except ConfigError as error:
        print(f"yihao: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="yihao-revision-") as scratch:
        if args.command == "revision" and not args.database:
            url = f"sqlite:///{Path(scratch) / 'scratch.sqlite3'}"
        else:
            instance_dir = Path(settings.instance_dir or INSTANCE_DIR)
            url = settings.database_url or default_sqlite_url(instance_dir)
        engine = make_engine(url)
        try:
            heads = ", ".join(migrations.head_revisions())
            if args.command == "upgrade":
                with schema_lock(engine):
                    upgrade_schema(engine)
            elif args.command == "revision":
                with schema_lock(engine), engine.connect() as connection:
                    path = migrations.autogenerate(connection, args.message)
                print(f"wrote {path}: read it and fix what autogenerate got wrong")
                return 0
            with engine.connect() as connection:
                current = ", ".join(migrations.current_revisions(connection)) or "none"
            print(f"database revision: {current}; newest revision: {heads}")
        finally:
            engine.dispose()
    return 0


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


def database_problem(error: Exception, url: str | None) -> str:
    """One line: which database (without its password) and what it said."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    original = error.orig if isinstance(error, DBAPIError) else error
    said = " ".join(str(original).split()) or type(original).__name__
    if not url:
        return said
    try:
        where = make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unreadable URL is named as "the database"
        return said
    return f"{where}: {said}"


def spare_the_garbage_collector() -> None:
    """A full collection scans every tracked object: 150,000 after start-up alone (60 ms on
    2 cores), more with each connected screen, and while it runs nothing else does: with
    1,000 screens a full collection stalled a call 150 ms (docs/PERFORMANCE.md). What
    start-up built lives as long as the process, so it is frozen out of the scans, and the
    young generation is collected less often, so full collections come rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(7_000, 10, 10)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["db"]:
        return db_main(argv[1:])
    if argv[:1] == ["simulate"]:
        from queue_server.simulation.cli import main as simulate_main

        return simulate_main(argv[1:])
    args = parse_args(argv)
    # gevent unless told otherwise: the measured production server (docs/PERFORMANCE.md).
    async_mode = args.async_mode or os.environ.get("YIHAO_ASYNC_MODE") or "gevent"
    if async_mode == "gevent":
        # Before anything imports socket, threading or the database drivers.
        from gevent import monkey

        monkey.patch_all()
    from queue_server import create_app
    from queue_server.config import ConfigError
    from queue_server.serving import Limits, serve_gevent, werkzeug_handler

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
    from sqlalchemy.exc import DBAPIError

    try:
        app = create_app(overrides)
    except ConfigError as error:
        print(f"yihao: {error}", file=sys.stderr)
        return 2
    except DBAPIError as error:
        url = overrides.get("DATABASE_URL") or os.environ.get("YIHAO_DATABASE_URL")
        print(f"yihao: cannot use the database {database_problem(error, url)}", file=sys.stderr)
        return 2
    extension = app.extensions["yihao"]
    settings = extension.settings
    if settings.rehearsal:
        if not is_loopback(args.host):
            print(
                f"yihao: refusing to listen on {args.host} with a rehearsal's hall clock "
                "(YIHAO_CLOCK_START / YIHAO_CLOCK_SCALE): it is for tests and the bench on "
                "127.0.0.1 only.",
                file=sys.stderr,
            )
            return 2
        print(
            f"Hall clock: a rehearsal's, now {extension.hall.clock().isoformat()}, "
            f"running {settings.clock_scale:g}× as fast as the wall clock",
            flush=True,
        )
    demo_users = extension.staff.users_with_demo_password()
    if demo_users and not is_loopback(args.host):
        print(
            f"yihao: refusing to listen on {args.host}: users {', '.join(demo_users)} "
            "still have the demo password 'demo'. Give them real password hashes in the hall file "
            "(password_hash), or listen on 127.0.0.1 only.",
            file=sys.stderr,
        )
        return 2
    spare_the_garbage_collector()
    scheduler = None
    if not args.no_scheduler:
        from queue_server.scheduler import start_scheduler

        scheduler = start_scheduler(app)
    print(f"Yihao serving on http://{args.host}:{args.port}", flush=True)
    try:
        limits = Limits.of(extension.settings)
        if async_mode == "gevent":
            serve_gevent(app, args.host, args.port, limits)
        else:
            extension.socketio.run(
                app,
                host=args.host,
                port=args.port,
                allow_unsafe_werkzeug=True,
                use_reloader=False,
                log_output=False,
                request_handler=werkzeug_handler(limits),
            )
    except KeyboardInterrupt:  # Ctrl+C in the terminal: a stop, not an error to print
        print("Yihao stopped", flush=True)
        return 130
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
