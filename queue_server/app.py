"""create_app(): the whole server — database, hall, API, pages, Socket.IO — for one process.
Nothing happens at import; run.py starts the scheduler (once) and serves."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limit, Limiter
from flask_limiter.util import get_remote_address
from flask_socketio import SocketIO

from queue_server import INSTANCE_DIR
from queue_server.api import read_json_body
from queue_server.app_context import Yihao, make_readonly_sessions
from queue_server.config import Settings, load_settings
from queue_server.errors import YihaoError
from queue_server.i18n import init_app as init_i18n
from queue_server.manager import settings as hall_settings

# A request body, and a Socket.IO client's message: Yihao's clients send a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from queue_server.api import register_api
    from queue_server.api.openapi import health
    from queue_server.db import (
        default_sqlite_url,
        make_engine,
        make_session_factory,
        writer_gate,
    )
    from queue_server.realtime.fanout import decline_compression, fanout_manager, use_shared_frames
    from queue_server.realtime.message_queue import MessageQueueWatch
    from queue_server.realtime.namespaces import register_namespaces
    from queue_server.realtime.publisher import Publisher
    from queue_server.services.auth import StaffDirectory
    from queue_server.services.setup import schema_lock, sync_hall, upgrade_schema
    from queue_server.services.unit_of_work import HallContext

    settings = load_settings(config)
    hall_config = settings.hall_config
    instance_dir = Path(settings.instance_dir or INSTANCE_DIR)
    app = Flask(__name__, instance_path=str(instance_dir))
    secret = _secret_key(settings, instance_dir)
    app.config.update(
        SECRET_KEY=secret,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        TESTING=settings.testing,
    )
    init_i18n(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    database_url = settings.database_url or default_sqlite_url(instance_dir)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with schema_lock(engine):
        upgrade_schema(engine)
        with sessions() as session:
            sync_hall(session, hall_config)

    hall = HallContext(hall_config, secret.encode(), settings.hall_clock(), writer_gate(engine))
    readonly_sessions = make_readonly_sessions(engine)
    staff = StaffDirectory.build(hall_config, secret.encode(), settings.token_max_age_s, engine)
    extension = Yihao(settings, engine, sessions, readonly_sessions, hall, staff)
    app.extensions["yihao"] = extension

    register_api(app)
    app.register_blueprint(health)
    _limit_logins(app, settings)
    _register_pages(app)
    _keep_settings_fresh(app, extension)

    client_manager = fanout_manager(settings.message_queue, settings.message_queue_channel)
    socketio = SocketIO(
        app,
        async_mode=settings.async_mode,
        message_queue=settings.message_queue,
        client_manager=client_manager,
        json=app.json,  # type: ignore[arg-type]
        ping_interval=settings.ping_interval_s,
        ping_timeout=settings.ping_timeout_s,
        max_http_buffer_size=MAX_BODY_BYTES,
    )
    use_shared_frames(socketio.server.eio, client_manager)
    # Outside Socket.IO's middleware: every WebSocket handshake negotiates no extension.
    app.wsgi_app = decline_compression(app.wsgi_app)  # type: ignore[method-assign]
    extension.socketio = socketio
    extension.publisher = Publisher(socketio, extension)
    register_namespaces(socketio, extension)
    if settings.message_queue and settings.message_queue.startswith(("redis://", "rediss://")):
        watch = MessageQueueWatch(extension, client_manager, settings.message_queue)
        extension.message_queue_watch = watch
        watch.check()  # a queue that refuses at start: one warning line, a degraded start
    if settings.start_background:
        extension.publisher.start()
        if extension.message_queue_watch is not None:
            extension.message_queue_watch.start()
        from ticket_printer.worker import PrintWorker

        extension.print_worker = PrintWorker(extension)
        extension.print_worker.start()
    return app


def _secret_key(settings: Settings, instance_dir: Path) -> str:
    """One secret per deployment: tokens and identity hashes must agree across processes and
    restarts, so without YIHAO_SECRET_KEY it is kept in instance/secret_key."""
    if settings.secret_key:
        return settings.secret_key
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _limit_logins(app: Flask, settings: Settings) -> None:
    """Failed logins are limited per (address, user name), one bucket across the API and the
    web form (429); good ones are not counted. The counters live in the message-queue Redis,
    so every process shares them; while it cannot be reached they live in this process's
    memory (Flask-Limiter's in-memory fallback), so staff can still log in."""
    message_queue = settings.message_queue or ""
    redis = message_queue.startswith(("redis://", "rediss://"))
    limit = settings.login_rate_limit
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=message_queue if redis else "memory://",
        storage_options={"socket_timeout": 1, "socket_connect_timeout": 1} if redis else {},
        strategy="moving-window",
        in_memory_fallback_enabled=redis,
        # Limit objects are taken since Flask-Limiter 4 (its annotation still says str).
        in_memory_fallback=[
            Limit(  # type: ignore[list-item]
                limit,
                key_function=_login_key,
                scope=LOGIN_SCOPE,
                shared=True,
                methods=["POST"],
                deduct_when=_failed_login,
            )
        ]
        if redis
        else None,
    )
    login_limit = limiter.shared_limit(
        limit, LOGIN_SCOPE, key_func=_login_key, methods=["POST"], deduct_when=_failed_login
    )
    # Wrap the registered view: Flask-Limiter checks a decorated view inside the wrapper.
    app.view_functions["api.login"] = login_limit(app.view_functions["api.login"])  # type: ignore[assignment]
    from queue_server.api.printing import limit_lookups

    limit_lookups(app, limiter, settings.login_rate_limit)  # identity look-ups: as logins
    # Its check before every request looks for application-wide limits, of which there are
    # none: 7 % of a ticket's time under load (docs/PERFORMANCE.md), so it is taken out.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    app.extensions["yihao"].limiter = limiter
    app.extensions["yihao"].login_limit = login_limit


LOGIN_SCOPE = "login"


def _login_key() -> str:
    """(address, user name) of a login attempt, whichever way it came: the web form, or the
    API's body (read as JSON whatever its declared type, so no path has a bucket of its
    own)."""
    username: Any = request.form.get("username") if request.form else None
    if username is None:
        try:
            body = read_json_body(any_type=True)
        except YihaoError:
            body = None
        username = body.get("username") if isinstance(body, dict) else None
    return f"{get_remote_address()}:{str(username)[:64]}"


def _failed_login(response: Response) -> bool:
    return response.status_code == 401


def _register_pages(app: Flask) -> None:
    """The pages live in their own packages; each registers its blueprint."""
    import counter_client.web
    import display
    import queue_server.manager
    import queue_server.staff
    import ticket_printer.web

    for package in (
        queue_server.staff,
        display,
        ticket_printer.web,
        counter_client.web,
        queue_server.manager,
    ):
        package.register(app)


def _keep_settings_fresh(app: Flask, extension: Yihao) -> None:
    """Settings an admin changed survive a restart (counters get their lines back after the
    hall file sync, the hall gets the stored values laid over it), and reach every process:
    each request first looks whether they changed (at most once a second,
    `Yihao.keep_settings_fresh`)."""
    with extension.sessions() as session:
        hall_settings.reapply_counter_settings(session, extension.hall.config)
    hall_settings.refresh(extension, force=True)
    app.before_request(extension.keep_settings_fresh)
