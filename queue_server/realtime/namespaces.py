"""Socket.IO namespaces, one per kind of client; each authenticates on connect and sends
`snapshot` first, so a client that reconnects never misses the current state."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_socketio import Namespace, emit, join_room

from queue_server.app_context import Yihao
from queue_server.config import SiteConfig, UserConfig
from queue_server.errors import YihaoError
from queue_server.protocol import (
    AUTH_TICKET,
    AUTH_TOKEN,
    COUNTER_NAMESPACE,
    COUNTER_QUERY,
    DISPLAY_NAMESPACE,
    EVENT_SNAPSHOT,
    EVENT_STATS,
    EVENT_TICKET,
    KIOSK_NAMESPACE,
    MANAGER_NAMESPACE,
    SEQ,
    SITE_QUERY,
    TICKET_NAMESPACE,
)
from queue_server.realtime.publisher import queues_payload
from queue_server.realtime.routes import counter_room
from queue_server.services.counters import counter_snapshot
from queue_server.services.reports import live_stats
from queue_server.services.steps import get_ticket
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import display_snapshot, public_ticket, site_seq, ticket_view


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]


class YihaoNamespace(Namespace):
    def __init__(self, namespace: str, yihao: Yihao) -> None:
        super().__init__(namespace)
        self.yihao = yihao

    def site_from_query(self) -> SiteConfig:
        site = self.yihao.hall.config.site(request.args.get(SITE_QUERY))
        if site is None:
            raise ConnectionRefusedError("unknown site")
        return site

    def staff_user(self, auth: Any) -> UserConfig:
        token = auth.get(AUTH_TOKEN) if isinstance(auth, dict) else None
        if not isinstance(token, str):
            raise ConnectionRefusedError("unauthenticated")
        try:
            return self.yihao.staff.user_for_token(token)
        except YihaoError:
            raise ConnectionRefusedError("unauthenticated") from None

    def site_of(self, user: UserConfig) -> SiteConfig:
        code = user.site or request.args.get(SITE_QUERY)
        site = self.yihao.hall.config.site(code)
        if site is None:
            raise ConnectionRefusedError("unknown site")
        return site


class DisplayNamespace(YihaoNamespace):
    """Hall and counter-top screens: public, no ticket ids, no personal data."""

    def on_connect(self, auth: Any = None) -> None:
        site = self.site_from_query()
        join_room(site.code)
        emit(EVENT_SNAPSHOT, self.yihao.read(site, display_snapshot))


class CounterNamespace(YihaoNamespace):
    """A clerk's terminal: its counter, its ticket in hand, its lines."""

    def on_connect(self, auth: Any = None) -> None:
        user = self.staff_user(auth)
        site = self.site_of(user)
        try:
            number = int(request.args.get(COUNTER_QUERY, ""))
            snapshot = self.yihao.read(site, counter_snapshot, number)
        except (ValueError, YihaoError):
            raise ConnectionRefusedError("unknown counter") from None
        join_room(site.code)
        join_room(counter_room(site.code, number))
        emit(EVENT_SNAPSHOT, snapshot)


class TicketNamespace(YihaoNamespace):
    """The visitor's phone page: only its own ticket, by its unguessable id."""

    def on_connect(self, auth: Any = None) -> None:
        ticket_id = auth.get(AUTH_TICKET) if isinstance(auth, dict) else None
        if not isinstance(ticket_id, str) or not ticket_id:
            raise ConnectionRefusedError("unknown ticket")
        for site in self.yihao.hall.config.sites:
            try:
                payload = self.yihao.read(site, _public_view, ticket_id)
            except YihaoError:
                continue
            join_room(ticket_id)
            if self.yihao.publisher is not None:
                self.yihao.publisher.watch_ticket(_sid(), site.code, ticket_id)
            emit(EVENT_SNAPSHOT, payload)
            emit(EVENT_TICKET, payload)
            return
        raise ConnectionRefusedError("unknown ticket")

    def on_disconnect(self, reason: Any = None) -> None:
        if self.yihao.publisher is not None:
            self.yihao.publisher.forget(_sid())


def _public_view(uow: UnitOfWork, ticket_id: str) -> dict[str, Any]:
    ticket = get_ticket(uow, ticket_id, lock=False)
    payload = public_ticket(ticket_view(uow, ticket))
    payload[SEQ] = site_seq(uow)
    return payload


class ManagerNamespace(YihaoNamespace):
    """Managers' live board: `stats` and `alert`."""

    def on_connect(self, auth: Any = None) -> None:
        user = self.staff_user(auth)
        if user.role not in ("manager", "admin"):
            raise ConnectionRefusedError("forbidden")
        site = self.site_of(user)
        join_room(site.code)
        stats = self.yihao.read(site, live_stats)
        emit(EVENT_SNAPSHOT, stats)
        emit(EVENT_STATS, stats)


def register_namespaces(socketio: Any, yihao: Yihao) -> None:
    socketio.on_namespace(DisplayNamespace(DISPLAY_NAMESPACE, yihao))
    socketio.on_namespace(CounterNamespace(COUNTER_NAMESPACE, yihao))
    socketio.on_namespace(TicketNamespace(TICKET_NAMESPACE, yihao))
    socketio.on_namespace(ManagerNamespace(MANAGER_NAMESPACE, yihao))
    from queue_server.realtime.kiosk import KioskNamespace  # it builds on YihaoNamespace

    socketio.on_namespace(KioskNamespace(KIOSK_NAMESPACE, yihao))


__all__ = ["queues_payload", "register_namespaces"]
