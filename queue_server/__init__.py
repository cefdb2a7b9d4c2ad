"""Yihao (一号) queue server: create_app() builds everything; nothing happens at import."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_socketio import SocketIO

from queue_server.config import load_settings

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from queue_server.api import register_api
    from queue_server.api.openapi import health
    from queue_server.app_context import Yihao, make_readonly_sessions
    from queue_server.db import (
        default_sqlite_url,
        make_engine,
        make_session_factory,
        writer_gate,
    )
    from queue_server.realtime.fanout import fanout_manager, use_shared_frames
    from queue_server.realtime.namespaces import register_namespaces
    from queue_server.realtime.publisher import Publisher
    from queue_server.services.auth import StaffDirectory
    from queue_server.services.setup import schema_lock, sync_hall, upgrade_schema
    from queue_server.services.unit_of_work import HallContext

    settings = load_settings(config)
    instance_dir = Path(settings.get("INSTANCE_DIR") or INSTANCE_DIR)
    app = Flask(__name__, instance_path=str(instance_dir))
    secret = _secret_key(settings, instance_dir)
    app.config.update(
        SECRET_KEY=secret,
        MAX_CONTENT_LENGTH=64 * 1024,
        TESTING=bool(settings.get("TESTING")),
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    database_url = settings["DATABASE_URL"] or default_sqlite_url(instance_dir)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with schema_lock(engine):
        upgrade_schema(engine)
        with sessions() as session:
            sync_hall(session, settings["HALL"])

    clock = settings.get("CLOCK") or (lambda: datetime.now(UTC))
    hall = HallContext(settings["HALL"], secret.encode(), clock, writer_gate(engine))
    staff = StaffDirectory.build(
        settings["HALL"], secret.encode(), int(settings["TOKEN_MAX_AGE_S"])
    )
    extension = Yihao(settings, engine, sessions, make_readonly_sessions(engine), hall, staff)
    app.extensions["yihao"] = extension

    register_api(app)
    app.register_blueprint(health)
    _limit_logins(app, settings)
    _register_pages(app)

    client_manager = fanout_manager(settings["MESSAGE_QUEUE"], settings["MESSAGE_QUEUE_CHANNEL"])
    socketio = SocketIO(
        app,
        async_mode=settings["ASYNC_MODE"],
        message_queue=settings["MESSAGE_QUEUE"],
        client_manager=client_manager,
        json=app.json,  # type: ignore[arg-type]
    )
    use_shared_frames(socketio.server.eio, client_manager)
    extension.socketio = socketio
    extension.publisher = Publisher(socketio, extension)
    register_namespaces(socketio, extension)
    if settings.get("START_BACKGROUND"):
        extension.publisher.start()
        from ticket_printer.worker import PrintWorker

        extension.extras["print_worker"] = worker = PrintWorker(extension)
        worker.start()
    return app


def _secret_key(settings: dict[str, Any], instance_dir: Path) -> str:
    """One secret per deployment: tokens and identity hashes must agree across processes and
    restarts, so without YIHAO_SECRET_KEY it is kept in instance/secret_key."""
    if settings.get("SECRET_KEY"):
        return str(settings["SECRET_KEY"])
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _limit_logins(app: Flask, settings: dict[str, Any]) -> None:
    """Failed logins are limited per address and user name (429); good ones are not counted."""
    message_queue = settings.get("MESSAGE_QUEUE") or ""
    storage = message_queue if message_queue.startswith("redis://") else "memory://"
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage, strategy="moving-window")

    def login_key() -> str:
        body = request.get_json(silent=True)
        username = body.get("username") if isinstance(body, dict) else None
        return f"{get_remote_address()}:{username}"

    limit_failures = limiter.limit(
        settings["LOGIN_RATE_LIMIT"],
        key_func=login_key,
        deduct_when=lambda response: response.status_code == 401,
    )
    # Wrap the registered view: Flask-Limiter checks a decorated view inside the wrapper.
    app.view_functions["api.login"] = limit_failures(app.view_functions["api.login"])  # type: ignore[assignment]
    # Its check before every request looks for application-wide limits, of which there are
    # none: 7 % of a ticket's time under load (docs/PERFORMANCE.md), so it is taken out.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    app.extensions["yihao"].extras["limiter"] = limiter


def _register_pages(app: Flask) -> None:
    """The pages live in their own packages; each registers its blueprint."""
    import counter_client.web
    import display
    import queue_server.manager
    import ticket_printer.web

    for package in (display, ticket_printer.web, counter_client.web, queue_server.manager):
        package.register(app)
