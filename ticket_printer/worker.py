"""The print worker of one server process: print jobs leave the database for the paper.

One lane (a background task) per kiosk printer this server drives, so a slow or dead
printer holds up only its own kiosk, plus one dispatcher that sends the jobs of kiosks
with a print agent over Socket.IO (`/kiosk`). Nothing here runs inside a request: a lane is
woken right after a commit that queued a job for its kiosk (the worker subscribes to
`PrintJobQueued` on the app's one after-commit path, `Yihao.after_commit`), when its own
retry falls due, and by the sweep; otherwise it sleeps. The dispatcher likewise claims
only for the agent kiosks it was woken for. The sweep (one task a process) asks the
database every few seconds, in one statement for every site, which kiosks have work this
process was not told of (jobs of other processes, retries, dead workers' claims, an
agent's unacknowledged jobs) and wakes those only: a city's 200 idle kiosks cost one
statement, not 400.

Each lane claims its due jobs through `services.printing` (a conditional UPDATE, so with
several processes a job prints once), asks the printer's status, sends the bytes of
`render_ticket`, and records the outcome; retrying and giving up are the service's rules.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from queue_server.config import KioskConfig, SiteConfig
from queue_server.domain.events import PrintJobQueued
from queue_server.protocol import EVENT_JOB, KIOSK_NAMESPACE
from queue_server.realtime.kiosk import agent_room, job_message
from queue_server.services import printing
from ticket_printer.drivers import PrinterDriver, open_printer
from ticket_printer.output import print_ticket
from ticket_printer.render import TicketLayout

if TYPE_CHECKING:
    from queue_server.app_context import Yihao

log = logging.getLogger(__name__)

SWEEP_S = 5.0  # how often the sweep looks for work nobody told this process of
ERROR_WAIT_S = 5.0  # a lane whose database call failed tries again after this


def layout_for(kiosk: KioskConfig) -> TicketLayout:
    return TicketLayout(width_mm=kiosk.paper_mm, chinese_mode=kiosk.chinese, qr=kiosk.qr)


@dataclass
class PrinterLane:
    """One kiosk's printer and the jobs for it, one at a time."""

    yihao: Yihao
    site: SiteConfig
    kiosk: KioskConfig
    driver: PrinterDriver
    wake_event: threading.Event = field(default_factory=threading.Event)

    @property
    def actor(self) -> str:
        return f"printer:{self.kiosk.code}"

    def run_once(self) -> int:
        """Print every due job once; returns how many were tried."""
        jobs = self.yihao.run(self.site, self.actor, printing.claim_due_jobs, self.kiosk.code)
        failure: tuple[str, bool] | None = None
        for job in jobs:
            if failure is not None:  # the printer just failed: the rest wait for its retry
                self._failed(job, failure[0], fault=False)
                continue
            failure = self._print(job)
            if failure is not None:
                self._failed(job, *failure)
        return len(jobs)

    def _print(self, job: printing.ClaimedJob) -> tuple[str, bool] | None:
        """None when the paper is out; else (why, whether the printer reported a fault)."""
        failure = print_ticket(self.driver, job.view, layout_for(self.kiosk))
        if failure is not None:
            return failure
        self.yihao.run(self.site, self.actor, printing.mark_printed, job.id)
        log.info("printed %s (job %s) on %s", job.number, job.id, self.driver.url)
        return None

    def _failed(self, job: printing.ClaimedJob, error: str, fault: bool) -> None:
        log.warning("print job %s (%s) failed: %s", job.id, job.number, error)
        self.yihao.run(
            self.site, self.actor, printing.mark_failed, job.id, error, printer_fault=fault
        )

    def seconds_to_next_due(self) -> float | None:
        """Until this kiosk's next retry (None: nothing waits, sleep until woken)."""
        due = self.yihao.read(self.site, printing.next_due_at, [self.kiosk.code])
        if due is None:
            return None
        delta = (due - self.yihao.hall.clock()).total_seconds()
        return min(max(delta, 0.05), SWEEP_S)


@dataclass
class AgentDispatcher:
    """Sends the jobs of print-agent kiosks to their agents (in any process, through the
    Socket.IO message queue); the agents acknowledge."""

    yihao: Yihao
    agents: list[tuple[SiteConfig, KioskConfig]]
    emit: Callable[..., Any]
    wake_event: threading.Event = field(default_factory=threading.Event)
    due: set[tuple[str, str]] = field(default_factory=set)  # (site, kiosk) woken, not yet run
    kiosks: frozenset[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.kiosks = frozenset((site.code, kiosk.code) for site, kiosk in self.agents)

    def wake(self, kiosks: set[tuple[str, str]]) -> None:
        mine = kiosks & self.kiosks
        if mine:
            self.due |= mine
            self.wake_event.set()

    def run_once(self, kiosks: set[tuple[str, str]] | None = None) -> int:
        """Send the due jobs of `kiosks` (default every agent's)."""
        sent = 0
        for site, kiosk in self.agents:
            if kiosks is not None and (site.code, kiosk.code) not in kiosks:
                continue
            jobs = self.yihao.run(
                site, f"agent:{kiosk.code}", printing.claim_agent_jobs, kiosk.code
            )
            for job in jobs:
                self.emit(
                    EVENT_JOB,
                    job_message(job, kiosk),
                    namespace=KIOSK_NAMESPACE,
                    to=agent_room(site.code, kiosk.code),
                )
            sent += len(jobs)
        return sent


class PrintWorker:
    def __init__(self, yihao: Yihao) -> None:
        self.yihao = yihao
        default_printer = yihao.settings.printer
        timeout = yihao.settings.printer_timeout_s
        self.lanes: list[PrinterLane] = []
        agents: list[tuple[SiteConfig, KioskConfig]] = []
        for site in yihao.hall.config.sites:
            for kiosk in site.kiosks:
                url = kiosk.printer_url(default_printer)
                if kiosk.agent_token:
                    agents.append((site, kiosk))
                elif url is not None:
                    self.lanes.append(
                        PrinterLane(yihao, site, kiosk, open_printer(url, timeout=timeout))
                    )
        assert yihao.socketio is not None
        self.socketio = yihao.socketio
        self.dispatcher = AgentDispatcher(yihao, agents, self.socketio.emit)
        self._stopping = threading.Event()
        self._tasks: list[Any] = []  # the background loops (threads or greenlets)

    def lane(self, kiosk: str, site: str | None = None) -> PrinterLane:
        return next(
            lane
            for lane in self.lanes
            if lane.kiosk.code == kiosk and (site is None or lane.site.code == site)
        )

    def wake(self) -> None:
        for lane in self.lanes:
            lane.wake_event.set()
        self.dispatcher.wake_event.set()

    def run_due(self) -> int:
        """One pass of every lane and the dispatcher, in the caller's thread."""
        done = sum(lane.run_once() for lane in self.lanes)
        return done + self.dispatcher.run_once()

    def wake_kiosks(self, kiosks: set[tuple[str, str]]) -> None:
        """Wake the lanes of these (site, kiosk), and the dispatcher for its agents among them."""
        for lane in self.lanes:
            if (lane.site.code, lane.kiosk.code) in kiosks:
                lane.wake_event.set()
        self.dispatcher.wake(kiosks)

    def sweep(self) -> None:
        """Wake the lanes (and the dispatcher) whose kiosks have work, one statement for the
        whole deployment (the caller's thread)."""
        if self.lanes or self.dispatcher.agents:
            first = self.yihao.hall.config.sites[0]
            self.wake_kiosks(self.yihao.read(first, printing.kiosks_with_work))

    def job_queued(self, event: PrintJobQueued) -> None:
        """A commit queued a print job: wake its kiosk's lane (or the dispatcher)."""
        self.wake_kiosks({(event.site, event.kiosk)})

    def start(self) -> None:
        if self._tasks:
            return
        self._stopping.clear()
        self.yihao.subscribe(PrintJobQueued, self.job_queued)
        self._tasks = [
            self.socketio.start_background_task(self._lane_loop, lane) for lane in self.lanes
        ]
        if self.dispatcher.agents:
            self.dispatcher.wake(set(self.dispatcher.kiosks))  # what waited before this start
            self._tasks.append(self.socketio.start_background_task(self._dispatch_loop))
        if self._tasks:
            self._tasks.append(self.socketio.start_background_task(self._sweep_loop))

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the loops and wait for them, so no session outlives the worker."""
        self._stopping.set()
        self.wake()
        for task in self._tasks:
            task.join(timeout_s)
        self._tasks = []
        for lane in self.lanes:
            lane.driver.close()

    def _lane_loop(self, lane: PrinterLane) -> None:
        while not self._stopping.is_set():
            # Cleared before the claim: a job queued meanwhile sets it again.
            lane.wake_event.clear()
            wait: float | None = None
            try:
                if lane.run_once() >= printing.CLAIM_LIMIT:
                    continue  # more may be due than one claim takes
                wait = lane.seconds_to_next_due()
            except Exception:
                log.exception("print lane %s failed; trying again shortly", lane.kiosk.code)
                wait = ERROR_WAIT_S
            lane.wake_event.wait(wait)

    def _sweep_loop(self) -> None:
        while not self._stopping.wait(SWEEP_S):
            try:
                self.sweep()
            except Exception:
                log.exception("print sweep failed; trying again shortly")

    def _dispatch_loop(self) -> None:
        dispatcher = self.dispatcher
        while not self._stopping.is_set():
            dispatcher.wake_event.wait()
            dispatcher.wake_event.clear()
            due, dispatcher.due = dispatcher.due, set()
            try:
                dispatcher.run_once(due)
            except Exception:  # the sweep finds their jobs again
                log.exception("print agent dispatch failed; trying again shortly")
