"""What one app instance owns: engine, sessions, hall, staff directory, Socket.IO, publisher,
and the one path from a commit to the world (`Yihao.after_commit`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from queue_server.config import HallConfig, Settings, SiteConfig
from queue_server.db import READONLY
from queue_server.domain.events import HallEvent
from queue_server.manager.settings import CHECK_INTERVAL_S, refresh
from queue_server.services.auth import StaffDirectory
from queue_server.services.unit_of_work import HallContext, UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from flask_limiter import Limiter
    from flask_socketio import SocketIO

    from queue_server.realtime.message_queue import MessageQueueWatch
    from queue_server.realtime.publisher import Publisher
    from ticket_printer.worker import PrintWorker

ResultT = TypeVar("ResultT")
EventT = TypeVar("EventT", bound=HallEvent)


@dataclass
class SettingsOverlay:
    """The admins' stored settings laid over the hall file: what was laid, and when it was
    last looked at (manager/settings.py `refresh`)."""

    file_config: HallConfig
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)
    checked_at: float = float("-inf")


@dataclass
class Yihao:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    readonly_sessions: sessionmaker[Session]
    hall: HallContext
    staff: StaffDirectory
    socketio: SocketIO | None = None
    publisher: Publisher | None = None
    limiter: Limiter | None = None
    message_queue_watch: MessageQueueWatch | None = None
    login_limit: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None
    print_worker: PrintWorker | None = None
    subscribers: dict[type, list[Callable[[Any], None]]] = field(default_factory=dict)
    overlay: SettingsOverlay = field(init=False)

    def __post_init__(self) -> None:
        self.overlay = SettingsOverlay(self.hall.config)

    def keep_settings_fresh(self) -> None:
        """Before each request: the admins' stored settings, if they changed, laid over the
        hall (`manager/settings.py` `refresh`). Looked at most once a second, so on all the
        other requests this is one comparison and nothing else is entered."""
        if time.monotonic() - self.overlay.checked_at >= CHECK_INTERVAL_S:
            refresh(self)

    def run(
        self,
        site: SiteConfig,
        actor: str,
        use_case: Callable[..., ResultT],
        *args: Any,
        base_url: str = "",
        **kwargs: Any,
    ) -> ResultT:
        """One write transaction; what happened in it is told only after the commit."""
        result, uow = run_in_transaction(
            self.sessions, self.hall, site, actor, use_case, *args, base_url=base_url, **kwargs
        )
        self.after_commit(uow)
        return result

    def subscribe(self, event_type: type[EventT], handler: Callable[[EventT], None]) -> None:
        """Have `handler` told of every committed event of this type (in this process)."""
        self.subscribers.setdefault(event_type, []).append(handler)

    def after_commit(self, uow: UnitOfWork) -> None:
        """The hall events of a committed unit of work: the live messages first (a call
        before anything else), then the subscribers (the print worker)."""
        if self.publisher is not None:
            self.publisher.after_commit(uow)
        if self.subscribers:
            for event in uow.happenings:
                for handler in self.subscribers.get(type(event), ()):
                    handler(event)

    def read(
        self,
        site: SiteConfig,
        use_case: Callable[..., ResultT],
        *args: Any,
        base_url: str = "",
        **kwargs: Any,
    ) -> ResultT:
        """A read-only look (no write lock on SQLite)."""
        session = self.readonly_sessions()
        try:
            uow = UnitOfWork.begin(session, self.hall, site, "reader", base_url)
            return use_case(uow, *args, **kwargs)
        finally:
            session.rollback()
            session.close()

    def site_holding(
        self, site_code_of: Callable[[UnitOfWork, str], str | None], key: str
    ) -> SiteConfig | None:
        """The site whose row `key` is (a ticket, a booking): one look by primary key in any
        site's session, never one look per site (a city's deployment hosts hundreds)."""
        hall = self.hall.config
        code = self.read(hall.sites[0], site_code_of, key)
        return hall.site(code) if code else None


def make_readonly_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for `Yihao.read`. On PostgreSQL a look is one REPEATABLE READ snapshot: under
    READ COMMITTED each statement sees the newest commit, so a snapshot could pair the
    counter's old state with a newer `seq` and make a client drop the live message that
    followed. (SQLite's deferred read transaction is one snapshot already.)"""
    options: dict[str, Any] = {READONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    return sessionmaker(bind=engine.execution_options(**options), expire_on_commit=False)


def yihao() -> Yihao:
    extension: Yihao = current_app.extensions["yihao"]
    return extension
