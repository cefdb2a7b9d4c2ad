"""The message-queue Redis, watched: while it cannot be reached this process keeps serving
its own clients (python-socketio delivers locally before it publishes), stops trying to
publish, keeps login limits in its memory (app.py `_limit_logins`), says so once in the log
at warning level and tells managers (a `message_queue` alert); when Redis answers again,
publishing resumes and this process's screens, terminals and boards get a fresh `snapshot`
(what other processes published meanwhile was lost).

`check()` pings Redis (1 s timeout) and acts on a change; the background loop runs it every
`message_queue_check_s`, and `/healthz` runs it on each call."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import redis

from queue_server.protocol import (
    COUNTER_NAMESPACE,
    DISPLAY_NAMESPACE,
    EVENT_SNAPSHOT,
    EVENT_STATS,
    MANAGER_NAMESPACE,
)
from queue_server.realtime.routes import counter_room
from queue_server.services.alerts import raise_alert
from queue_server.services.counters import counter_snapshot
from queue_server.services.reports import live_stats
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import display_snapshot

if TYPE_CHECKING:
    from queue_server.app_context import Yihao

log = logging.getLogger("yihao.message_queue")
PING_TIMEOUT_S = 1.0


def safe_url(url: str) -> str:
    """The URL without its password, for logs and alerts."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def ping(url: str) -> str | None:
    """None when the Redis at `url` answers within a second, else what went wrong."""
    client = redis.Redis.from_url(
        url, socket_timeout=PING_TIMEOUT_S, socket_connect_timeout=PING_TIMEOUT_S
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    finally:
        client.close()
    return None


class MessageQueueWatch:
    def __init__(self, yihao: Yihao, manager: Any, url: str) -> None:
        self.yihao = yihao
        self.manager = manager  # the Socket.IO client manager (fanout.py `WatchedQueue`)
        self.url = url
        self.down_since: datetime | None = None
        self._running = False
        self._task: Any = None

    @property
    def status(self) -> str:
        return "down" if self.down_since is not None else "ok"

    def check(self) -> str:
        """Ping, act on a change, and say "ok" or "down"."""
        error = ping(self.url)
        if error is not None and self.down_since is None:
            self._went_down(error)
        elif error is None and (self.down_since is not None or self.manager.queue_down):
            self._came_back()  # (or a publish failed, fanout.py `WatchedRedis`, on a blip)
        return self.status

    def _went_down(self, error: str) -> None:
        self.down_since = datetime.now(UTC)
        self.manager.queue_down = True
        log.warning(
            "message queue %s cannot be reached (%s): this process serves only its own "
            "clients, other processes' screens miss its calls, login limits are kept in its "
            "memory; it will resend the screens' state when the queue returns",
            safe_url(self.url),
            error,
        )
        subject = f"message_queue:{self.down_since.strftime('%Y-%m-%dT%H:%M')}"
        message = (
            f"消息队列（Redis {safe_url(self.url)}）无法连接：各进程只向自己的屏幕和终端推送，"
            "其他进程连接的屏幕收不到这里的叫号。请检查 Redis；恢复后屏幕会自动刷新。"
        )
        for site in self.yihao.hall.config.sites:
            try:
                self.yihao.run(site, "system", raise_alert, "message_queue", subject, message)
            except Exception:
                log.exception("could not store the message-queue alert")

    def _came_back(self) -> None:
        # (No down_since: a publish failed on a blip the pings never saw.)
        since = self.down_since or datetime.now(UTC)
        seconds = (datetime.now(UTC) - since).total_seconds()
        self.down_since = None
        self.manager.queue_down = False
        log.warning(
            "message queue %s reachable again after %.0f s: publishing resumes; sending this "
            "process's clients a fresh snapshot",
            safe_url(self.url),
            seconds,
        )
        self.resend_snapshots()

    def resend_snapshots(self) -> None:
        """This process's screens, terminals and boards get the state afresh (only here:
        every process does this for its own clients when it sees the queue return)."""
        socketio = self.yihao.socketio
        assert socketio is not None
        for site in self.yihao.hall.config.sites:
            display, stats, counters = self.yihao.read(site, _snapshots)
            socketio.emit(
                EVENT_SNAPSHOT,
                display,
                namespace=DISPLAY_NAMESPACE,
                to=site.code,
                ignore_queue=True,
            )
            socketio.emit(
                EVENT_STATS, stats, namespace=MANAGER_NAMESPACE, to=site.code, ignore_queue=True
            )
            for number, snapshot in counters.items():
                socketio.emit(
                    EVENT_SNAPSHOT,
                    snapshot,
                    namespace=COUNTER_NAMESPACE,
                    to=counter_room(site.code, number),
                    ignore_queue=True,
                )

    # -- background loop -------------------------------------------------------------
    def start(self) -> None:
        socketio = self.yihao.socketio
        if self._running or socketio is None:
            return
        self._running = True
        self._task = socketio.start_background_task(self._loop)

    def stop(self) -> None:
        self._running = False

    def _loop(self) -> None:
        socketio = self.yihao.socketio
        assert socketio is not None
        while self._running:
            socketio.sleep(self.yihao.settings.message_queue_check_s)
            try:
                self.check()
            except Exception:
                log.exception("message-queue check failed; will try again")


def _snapshots(uow: UnitOfWork) -> tuple[dict[str, Any], dict[str, Any], dict[int, Any]]:
    counters = {
        counter.number: counter_snapshot(uow, counter.number) for counter in uow.site.counters
    }
    return display_snapshot(uow), live_stats(uow), counters
