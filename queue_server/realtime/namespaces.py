"""Socket.IO namespaces, one per kind of client; each authenticates on connect and sends
`snapshot` first, so a client that reconnects never misses the current state.

A client joins its rooms before its snapshot is read, and what is broadcast to it meanwhile
waits in the client manager until the snapshot has gone (`send_snapshot_first`): the
snapshot is always its first message, and nothing committed after the snapshot's seq is
lost (clients drop what is not newer than their snapshot)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import Namespace, join_room

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
from queue_server.realtime.fanout import DirectFanout
from queue_server.realtime.publisher import queues_payload
from queue_server.realtime.routes import counter_room
from queue_server.services.counters import counter_snapshot
from queue_server.services.reports import live_stats
from queue_server.services.steps import get_ticket
from queue_server.services.tickets import site_of_ticket
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import display_snapshot, public_ticket, site_seq, ticket_view


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]


class YihaoNamespace(Namespace):
    def __init__(self, namespace: str, yihao: Yihao) -> None:
        super().__init__(namespace)
        self.yihao = yihao

    def send_snapshot_first(
        self, rooms: list[str], read: Callable[[], Any], events: tuple[str, ...] = (EVENT_SNAPSHOT,)
    ) -> None:
        """Join `rooms`, read the snapshot, send it as `events`, then what was broadcast to
        this client meanwhile. A refusal raised by `read` drops what was held back."""
        manager: DirectFanout = self.socketio.server.manager
        sid = _sid()
        manager.hold(sid)
        try:
            for room in rooms:
                join_room(room)
            payload = read()
        except BaseException:
            manager.forget_hold(sid)
            raise
        manager.release(sid, self.namespace, [(event, payload) for event in events])

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
        self.send_snapshot_first([site.code], lambda: self.yihao.read(site, display_snapshot))


class CounterNamespace(YihaoNamespace):
    """A clerk's terminal: its counter, its ticket in hand, its lines."""

    def on_connect(self, auth: Any = None) -> None:
        user = self.staff_user(auth)
        site = self.site_of(user)
        try:
            number = int(request.args.get(COUNTER_QUERY, ""))
        except ValueError:
            raise ConnectionRefusedError("unknown counter") from None

        def read() -> dict[str, Any]:
            try:
                return self.yihao.read(site, counter_snapshot, number)
            except YihaoError:
                raise ConnectionRefusedError("unknown counter") from None

        self.send_snapshot_first([site.code, counter_room(site.code, number)], read)


class TicketNamespace(YihaoNamespace):
    """The visitor's phone page: only its own ticket, by its unguessable id."""

    def on_connect(self, auth: Any = None) -> None:
        ticket_id = auth.get(AUTH_TICKET) if isinstance(auth, dict) else None
        if not isinstance(ticket_id, str) or not ticket_id:
            raise ConnectionRefusedError("unknown ticket")

        def read() -> dict[str, Any]:
            site = self.yihao.site_holding(site_of_ticket, ticket_id)
            if site is None:
                raise ConnectionRefusedError("unknown ticket")
            try:
                payload = self.yihao.read(site, _public_view, ticket_id)
            except YihaoError:
                raise ConnectionRefusedError("unknown ticket") from None
            if self.yihao.publisher is not None:
                self.yihao.publisher.watch_ticket(_sid(), site.code, ticket_id)
            return payload

        self.send_snapshot_first([ticket_id], read, (EVENT_SNAPSHOT, EVENT_TICKET))

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
        self.send_snapshot_first(
            [site.code], lambda: self.yihao.read(site, live_stats), (EVENT_SNAPSHOT, EVENT_STATS)
        )


def register_namespaces(socketio: Any, yihao: Yihao) -> None:
    socketio.on_namespace(DisplayNamespace(DISPLAY_NAMESPACE, yihao))
    socketio.on_namespace(CounterNamespace(COUNTER_NAMESPACE, yihao))
    socketio.on_namespace(TicketNamespace(TICKET_NAMESPACE, yihao))
    socketio.on_namespace(ManagerNamespace(MANAGER_NAMESPACE, yihao))
    from queue_server.realtime.kiosk import KioskNamespace  # it builds on YihaoNamespace

    socketio.on_namespace(KioskNamespace(KIOSK_NAMESPACE, yihao))


__all__ = ["queues_payload", "register_namespaces"]
