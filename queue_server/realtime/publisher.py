"""Emits after commit, and coalesced updates that must not flood the screens.

A committed unit of work's hall events go out at once, each as the messages `routes` says
(`call`, `counter`, `ticket`, `evaluate`, `alert`, `notice`), through the message queue when
there is one. Line counts (`queues`) and the managers' `stats` are recomputed at most a few
times a second per site; visitors' positions at most once a second. Those coalesced updates
go to this process's own clients only: every process sees each site's event seq move
(whichever process committed) and pushes its own screens, terminals, boards and phones once,
so a client gets one update per change however many processes serve the hall.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from queue_server.protocol import (
    COUNTER_NAMESPACE,
    DISPLAY_NAMESPACE,
    EVENT_QUEUES,
    EVENT_STATS,
    EVENT_TICKET,
    MANAGER_NAMESPACE,
    TICKET_NAMESPACE,
)
from queue_server.realtime.cpu_process import CpuProcess
from queue_server.realtime.routes import messages
from queue_server.services.counters import lines_detail
from queue_server.services.estimates import event_seqs
from queue_server.services.reports import live_stats
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import HallState, public_ticket, site_seq, ticket_views

if TYPE_CHECKING:
    from flask_socketio import SocketIO

    from queue_server.app_context import Yihao

log = logging.getLogger(__name__)


def queues_payload(uow: UnitOfWork, state: HallState | None = None) -> dict[str, Any]:
    return {"seq": site_seq(uow), "queues": (state or HallState(uow)).queue_summaries()}


def site_payloads(uow: UnitOfWork, namespaces: frozenset[str]) -> dict[str, dict[str, Any]]:
    """What the screens (`/display` `queues`), the terminals (`/counter` `queues`) and the
    managers' board (`/manager` `stats`) of `namespaces` get, from one look at the site: the
    seq and the line counts read once (the clerks' payload is the screens' plus each line's
    next tickets, numbers only)."""
    state = HallState(uow)
    payloads: dict[str, dict[str, Any]] = {}
    if namespaces & {DISPLAY_NAMESPACE, COUNTER_NAMESPACE}:
        queues = queues_payload(uow, state)
        if DISPLAY_NAMESPACE in namespaces:
            payloads[DISPLAY_NAMESPACE] = queues
        if COUNTER_NAMESPACE in namespaces:
            payloads[COUNTER_NAMESPACE] = {**queues, "lines": lines_detail(uow)}
    if MANAGER_NAMESPACE in namespaces:
        payloads[MANAGER_NAMESPACE] = live_stats(uow, state)
    return payloads


# What each namespace's clients get of a site's coalesced push, by namespace.
SITE_PUSHES = {
    DISPLAY_NAMESPACE: EVENT_QUEUES,
    COUNTER_NAMESPACE: EVENT_QUEUES,
    MANAGER_NAMESPACE: EVENT_STATS,
}


# The loop rests at least this many times as long as its last round worked (boards, line
# counts, phones' places), so on a busy deployment it takes at most half of its process's
# time and the requests, whose calls the hall waits for, get the rest. Without a rest its
# rounds ran back to back on a city's deployment, where every site changes every few
# seconds: any saving in a round went into more rounds, not to the requests
# (docs/PERFORMANCE.md, run O). The rest is capped, so a round swollen by a burst (a
# city's screens all connecting at once) never leaves the screens and phones without an
# update for long.
REST_PER_WORK = 1.0
MAX_REST_S = 2.0


def rest_after(worked_s: float, interval_s: float) -> float:
    """How long the loop sleeps after a round that worked `worked_s` (wall time, its waits
    on the database and on the estimator included): the interval, or as long as the round
    worked, up to `MAX_REST_S`."""
    return max(interval_s, min(worked_s * REST_PER_WORK, MAX_REST_S))


class Publisher:
    def __init__(self, socketio: SocketIO, yihao: Yihao) -> None:
        self.socketio = socketio
        self.yihao = yihao
        self.publish_interval_s = yihao.settings.publish_interval_s
        self.position_interval_s = yihao.settings.position_interval_s
        self._lock = threading.Lock()
        self._seen_seq: dict[str, int] = {}  # per site, the event seq this process last saw
        self._watchers: dict[str, tuple[str, str]] = {}  # sid -> (site, ticket id), this process
        self._last_position: dict[str, tuple[Any, ...]] = {}
        self._position_seq: dict[str, int] = {}
        self._running = False
        self._task: Any = None  # the background loop (a thread or a greenlet)
        self._cpu: CpuProcess | None = None  # where the estimator runs under gevent
        self._clock: Callable[[], float] = time.monotonic  # the loop's rests (a test's own)

    # -- immediate -------------------------------------------------------------------
    def after_commit(self, uow: UnitOfWork) -> None:
        """The commit's messages, to this process's clients at once and to the other
        processes together: one round trip to Redis for the lot (fanout.py `WatchedRedis`)."""
        emit = self.socketio.emit
        with self.socketio.server.manager.publishing_together():
            for event in uow.happenings:
                for message in messages(event, uow.seq):
                    emit(
                        message.name, message.payload, namespace=message.namespace, to=message.room
                    )

    # -- coalesced -------------------------------------------------------------------
    def refresh_estimates(self) -> set[str]:
        """Each site's wait estimates, recomputed when its event seq moved (a commit here or
        in another process) or they are older than half a minute: off the request path, at
        most once a tick however many tickets a burst issues (services/estimates.py).
        Returns the sites to push: those whose seq moved since the last tick (every event
        recorded moves it, here or in another process), and those whose estimates are new. A
        costly board not remade at once is remade on a later tick (its seq is behind), and
        pushed then."""
        cache = self.yihao.hall.estimates
        push = set()
        sites = self.yihao.hall.config.sites
        seqs = self.yihao.read(sites[0], event_seqs)  # every site's, in one statement
        now = self.yihao.hall.clock()
        for site in sites:
            seq = seqs.get(site.code, 0)
            if self._seen_seq.get(site.code) != seq:
                push.add(site.code)
                self._seen_seq[site.code] = seq
            if cache.is_fresh(site.code, seq, now):
                continue
            before = cache.board_of(site.code)
            if self.yihao.read(site, cache.refresh) is not before:
                push.add(site.code)
        return push

    def flush(self) -> None:
        for code in sorted(self.refresh_estimates()):
            site = self.yihao.hall.config.site(code)
            if site is None:
                continue
            # Only what this process's own clients of the site look at: a city's process
            # holds some screens of most sites and the boards of few.
            listening = frozenset(
                namespace for namespace in SITE_PUSHES if self._has_clients(namespace, code)
            )
            if not listening:
                continue
            payloads = self.yihao.read(site, site_payloads, listening)
            for namespace, payload in payloads.items():
                self.socketio.emit(
                    SITE_PUSHES[namespace], payload, namespace=namespace, to=code, ignore_queue=True
                )

    def _has_clients(self, namespace: str, room: str) -> bool:
        """Whether a client of this process is in the room (python-socketio's public
        `get_participants`, which knows only this process's)."""
        participants = self.socketio.server.manager.get_participants(namespace, room)
        return next(iter(participants), None) is not None

    def watch_ticket(self, sid: str, site: str, ticket_id: str) -> None:
        with self._lock:
            self._watchers[sid] = (site, ticket_id)

    def forget(self, sid: str) -> None:
        with self._lock:
            self._watchers.pop(sid, None)
            self._last_position.pop(sid, None)
            self._position_seq.pop(sid, None)  # a phone that left keeps nothing here

    def push_positions(self) -> None:
        """Send a visitor's page its new place in line when it changed (at most once a run).
        A site whose event seq has not moved since its phones were last sent theirs is left
        alone: the tick read every site's seq in one statement (`refresh_estimates`), so a
        quiet site costs no transaction (a city's 200 sites were 200 a second a process)."""
        with self._lock:
            watchers = dict(self._watchers)
        by_site: dict[str, list[tuple[str, str]]] = {}
        for sid, (site, ticket_id) in watchers.items():
            by_site.setdefault(site, []).append((sid, ticket_id))
        for code, items in by_site.items():
            seen = self._seen_seq.get(code)
            if seen is not None and all(self._position_seq.get(sid) == seen for sid, _ in items):
                continue
            watched_site = self.yihao.hall.config.site(code)
            if watched_site is not None:
                self.yihao.read(watched_site, self._push_site_positions, items)

    def _push_site_positions(self, uow: UnitOfWork, items: list[tuple[str, str]]) -> None:
        seq = site_seq(uow)
        due = [(sid, ticket_id) for sid, ticket_id in items if self._position_seq.get(sid) != seq]
        for sid, _ in due:
            self._position_seq[sid] = seq
        views = ticket_views(uow, list({ticket_id for _, ticket_id in due}), HallState(uow))
        for sid, ticket_id in due:
            view = views.get(ticket_id)
            if view is None:
                continue
            payload = public_ticket(view)
            fingerprint = (payload["state"], payload["waiting_ahead"], payload["est_wait_s"])
            if self._last_position.get(sid) == fingerprint:
                continue
            self._last_position[sid] = fingerprint
            payload["seq"] = seq
            # The phone is this process's: nothing through the message queue.
            self.socketio.emit(
                EVENT_TICKET, payload, namespace=TICKET_NAMESPACE, to=sid, ignore_queue=True
            )

    # -- background loop -------------------------------------------------------------
    def start(self) -> None:
        if self._running:
            return
        self._running = True
        estimates = self.yihao.hall.estimates
        estimates.background = True  # T reads the boards this loop keeps
        if self.socketio.async_mode == "gevent":
            # The estimator's CPU work in a process of its own: the loop (and every request
            # of this process) goes on meanwhile without waiting for the GIL.
            self._cpu = CpuProcess()
            estimates.offload = self._cpu
        self._task = self.socketio.start_background_task(self._loop)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the loop and wait for it, so no session outlives the publisher."""
        self._running = False
        if self._task is not None:
            self._task.join(timeout_s)
            self._task = None
        if self._cpu is not None:
            self.yihao.hall.estimates.offload = None
            self._cpu.stop()
            self._cpu = None

    def _loop(self) -> None:
        rest = self.publish_interval_s
        positions_due = self._clock() + self.position_interval_s
        while self._running:
            self.socketio.sleep(rest)
            started = self._clock()
            try:
                self.flush()
                if (now := self._clock()) >= positions_due:
                    positions_due = now + self.position_interval_s
                    self.push_positions()
            except Exception:
                log.exception("live update failed; will try again")
            rest = rest_after(self._clock() - started, self.publish_interval_s)
