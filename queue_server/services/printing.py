"""Tickets on paper: the print queue's use cases (SPEC §6).

A print job is a row inserted in the ticket's own transaction, so a committed ticket always
has its job and a rolled-back one never prints. Workers and print agents then claim due jobs
with a conditional UPDATE (`queued`/`failed` → `printing`, `FOR UPDATE SKIP LOCKED` on
PostgreSQL), so with several processes a job is printed once. A job that has not printed
within the retry window (about a minute: a ticket printed later could be picked up by the
next visitor) is `abandoned`, the managers get an alert, and it prints only on request
(reprint).

Nothing here talks to a printer or to Socket.IO: a queued job and an alert are hall events,
told after the commit (the print worker wakes, managers get the alert).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, text, update

from queue_server.config import DEFAULT_PRINTER_KIOSK, KioskConfig
from queue_server.domain.events import AlertRaised, PrintJobQueued
from queue_server.domain.lifecycle import UNFINISHED
from queue_server.errors import BadRequest, Conflict, NotFound
from queue_server.models import PENDING_JOBS_SQL, PENDING_PRINT_STATES, PrintJob, Ticket
from queue_server.services.steps import get_ticket, today
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import ticket_view

RETRY_WINDOW_S = 60.0  # after this a ticket on paper could end in the next visitor's hand
RETRY_DELAYS_S = (2.0, 3.0, 5.0)  # then every 5 s until the window closes
STALE_CLAIM_S = 30.0  # a `printing` claim older than this belongs to a worker that died
AGENT_RESEND_S = 10.0  # an agent that has not acknowledged a job gets it again
CLAIM_LIMIT = 5  # jobs a printer's worker claims at once (the rest wait for its next claim)


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker or agent now holds: what to print and where."""

    id: int
    site_code: str
    kiosk: str
    ticket_id: str
    number: str
    view: dict[str, Any]
    attempts: int
    reprint: bool


def layout_of(kiosk: KioskConfig | None) -> dict[str, Any]:
    if kiosk is None:
        return {"paper_mm": 80, "chinese": "gb18030", "qr": "native"}
    return {"paper_mm": kiosk.paper_mm, "chinese": kiosk.chinese, "qr": kiosk.qr}


# -- queueing --------------------------------------------------------------------------


def paper_view(
    uow: UnitOfWork, ticket: Ticket, view: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The fields of `ticket_printer.render.TicketView`, as the ticket stands now."""
    view = view or ticket_view(uow, ticket)
    issued = datetime.fromisoformat(view["issued_at"]) if view.get("issued_at") else uow.now
    est_wait_s = view.get("est_wait_s") or 0
    steps_total = int(view.get("steps_total") or 1)
    return {
        "hall_name": uow.site.name,
        "number": view["number"],
        "queue_name": view.get("queue_name") or view["queue"],
        "service_name": _service_names(uow, view),
        "waiting_ahead": int(view.get("waiting_ahead") or 0),
        "est_wait_min": math.ceil(est_wait_s / 60),
        "issued_at": issued.astimezone(uow.site.zone).strftime("%Y-%m-%d %H:%M"),
        "status_url": view.get("status_url") or "",
        "notice": uow.site.notice,
        "step_text": f"第 {view['step']} 步 / 共 {steps_total} 步" if steps_total > 1 else "",
        "green": bool(view.get("green")),
        "location": view.get("location") or "",
        "wait_text": _wait_text(view),
        "hold_reason": view.get("hold_reason") or "",
    }


def _service_names(uow: UnitOfWork, view: dict[str, Any]) -> str:
    """Every business of the visit (一窗通办: one joined later too), not only the first."""
    if not view.get("services"):
        return str(view.get("service_name") or view["service"])
    names = []
    for code in view["services"]:
        service = uow.site.service(code)
        names.append(service.name if service else code)
    return "、".join(names)


def _wait_text(view: dict[str, Any]) -> str:
    """What the paper says instead of an estimate when no counter of the line is open, or when
    one is free now: never "约 0 分钟" (SPEC §4). The paper is Chinese, like the rest of it."""
    if view.get("state") != "waiting":
        return ""
    if view.get("line_open") is False:
        return "窗口暂未开放"
    if view.get("est_wait_s") is None:
        return "窗口暂停服务"
    if view["est_wait_s"] <= 0:  # a counter is free now: never "约 0 分钟" (the phone says so)
        return "即将轮到"
    return ""


def queue_print_job(
    uow: UnitOfWork,
    ticket: Ticket,
    kiosk: str,
    *,
    reprint: bool = False,
    view: dict[str, Any] | None = None,
) -> PrintJob | None:
    """Queue the ticket for the kiosk's paper in the caller's transaction. A kiosk without a
    printer gets none (it shows the ticket on screen only); a reprint asked for while one is
    still pending is that pending job."""
    config = uow.site.kiosk(kiosk)
    if config is None or not config.prints:
        return None
    if reprint:
        pending = uow.session.scalars(
            select(PrintJob).where(
                PrintJob.ticket_id == ticket.id, PrintJob.state.in_(PENDING_PRINT_STATES)
            )
        ).first()
        if pending is not None:
            return pending
    job = PrintJob(
        site_code=uow.site.code,
        ticket_id=ticket.id,
        kiosk=kiosk,
        state="queued",
        attempts=0,
        reprint=reprint,
        view=paper_view(uow, ticket, view),
        created_at=uow.now,
        next_try_at=uow.now,
    )
    uow.session.add(job)
    uow.session.flush()
    uow.happened(PrintJobQueued(uow.site.code, kiosk, job.id))
    return job


def reprint_ticket(uow: UnitOfWork, ticket_id: str, kiosk: str | None) -> dict[str, Any]:
    """Staff (or a kiosk after proof of identity) print a ticket again, on request."""
    ticket = get_ticket(uow, ticket_id, lock=False)
    if ticket.site_code != uow.site.code:
        raise NotFound("没有这张号票")
    if ticket.state not in UNFINISHED or ticket.business_day != today(uow):
        raise Conflict("号票%(number)s已结束，不能补打", code="invalid_state", number=ticket.number)
    code = kiosk or ticket.kiosk or DEFAULT_PRINTER_KIOSK
    config = uow.site.kiosk(code)
    if config is None:
        raise BadRequest("没有这台取号机：%(kiosk)s", code="invalid_field", kiosk=code)
    if not config.prints:
        raise BadRequest("取号机%(kiosk)s没有打印机", code="invalid_field", kiosk=code)
    job = queue_print_job(uow, ticket, code, reprint=True)
    assert job is not None
    return {"ticket": ticket_view(uow, ticket), "print_job": job_view(job)}


def job_view(job: PrintJob) -> dict[str, Any]:
    return {"id": job.id, "kiosk": job.kiosk, "state": job.state, "reprint": job.reprint}


# -- claiming --------------------------------------------------------------------------


def claim_due_jobs(uow: UnitOfWork, kiosk: str, limit: int = CLAIM_LIMIT) -> list[ClaimedJob]:
    """Jobs of one kiosk that are due now, claimed for this worker (and only this one)."""
    abandon_overdue(uow)
    due = and_(
        PrintJob.state.in_(("queued", "failed")),
        PrintJob.next_try_at <= uow.now,
        PrintJob.created_at > uow.now - timedelta(seconds=RETRY_WINDOW_S),
    )
    return _claim(uow, kiosk, due, limit)


def claim_agent_jobs(uow: UnitOfWork, kiosk: str, *, everything: bool = False) -> list[ClaimedJob]:
    """Jobs to send to a kiosk's print agent: due ones, and those sent but not acknowledged
    for a while (`everything`: all of them, for an agent that has just connected). The agent
    prints each job id once, so sending again is harmless."""
    abandon_overdue(uow)
    window_open = PrintJob.created_at > uow.now - timedelta(seconds=RETRY_WINDOW_S)
    unacknowledged = PrintJob.state == "printing"
    if not everything:
        unacknowledged = and_(
            unacknowledged, PrintJob.claimed_at <= uow.now - timedelta(seconds=AGENT_RESEND_S)
        )
    due = and_(
        window_open,
        or_(
            and_(PrintJob.state.in_(("queued", "failed")), PrintJob.next_try_at <= uow.now),
            unacknowledged,
        ),
    )
    return _claim(uow, kiosk, due, limit=50)


def _claim(uow: UnitOfWork, kiosk: str, due: Any, limit: int) -> list[ClaimedJob]:
    candidates = (
        select(PrintJob.id)
        .where(PrintJob.site_code == uow.site.code, PrintJob.kiosk == kiosk, due)
        .order_by(PrintJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed_ids = list(
        uow.session.scalars(
            update(PrintJob)
            .where(PrintJob.id.in_(candidates), due)
            .values(state="printing", claimed_at=uow.now, attempts=PrintJob.attempts + 1)
            .returning(PrintJob.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed_ids:
        return []
    rows = uow.session.execute(
        select(PrintJob, Ticket.number)
        .join(Ticket, Ticket.id == PrintJob.ticket_id)
        .where(PrintJob.id.in_(claimed_ids))
        .order_by(PrintJob.id)
        .execution_options(populate_existing=True)
    ).all()
    return [
        ClaimedJob(
            id=job.id,
            site_code=job.site_code,
            kiosk=job.kiosk,
            ticket_id=job.ticket_id,
            number=number,
            view=dict(job.view),
            attempts=job.attempts,
            reprint=job.reprint,
        )
        for job, number in rows
    ]


def kiosks_with_work(uow: UnitOfWork) -> set[tuple[str, str]]:
    """(site, kiosk) of every site whose jobs want a worker now: due, past their window
    (to be given up), or claimed and not acknowledged for a while (an agent's to resend, a
    dead worker's to give up). One statement for the whole deployment, through the pending
    jobs' own index, so a city's idle workers do not ask each site in turn."""
    pending = text(PENDING_JOBS_SQL)  # the index's own words: SQLite uses it only then
    unclaimed = PrintJob.state.in_(("queued", "failed"))
    wants_work = or_(
        and_(unclaimed, PrintJob.next_try_at <= uow.now),
        and_(unclaimed, PrintJob.created_at <= uow.now - timedelta(seconds=RETRY_WINDOW_S)),
        and_(
            PrintJob.state == "printing",
            PrintJob.claimed_at <= uow.now - timedelta(seconds=AGENT_RESEND_S),
        ),
    )
    rows = uow.session.execute(
        select(PrintJob.site_code, PrintJob.kiosk).where(pending, wants_work).distinct()
    )
    return {(site, kiosk) for site, kiosk in rows}


def next_due_at(uow: UnitOfWork, kiosks: list[str]) -> datetime | None:
    """When the earliest retry of these kiosks' jobs falls due (for a worker's sleep)."""
    if not kiosks:
        return None
    value: datetime | None = uow.session.scalar(
        select(PrintJob.next_try_at)
        .where(
            PrintJob.site_code == uow.site.code,
            PrintJob.kiosk.in_(kiosks),
            PrintJob.state.in_(("queued", "failed")),
        )
        .order_by(PrintJob.next_try_at)
        .limit(1)
    )
    return value


# -- outcomes --------------------------------------------------------------------------


def mark_printed(uow: UnitOfWork, job_id: int, kiosk: str | None = None) -> bool:
    """The paper is out (or the agent says so). A second acknowledgement changes nothing."""
    conditions = [
        PrintJob.id == job_id,
        PrintJob.site_code == uow.site.code,
        PrintJob.state != "printed",
    ]
    if kiosk is not None:
        conditions.append(PrintJob.kiosk == kiosk)
    done = uow.session.execute(
        update(PrintJob)
        .where(*conditions)
        .values(state="printed", printed_at=uow.now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


def mark_failed(
    uow: UnitOfWork,
    job_id: int,
    error: str,
    *,
    printer_fault: bool = False,
    kiosk: str | None = None,
) -> str | None:
    """An attempt failed: try again soon, or give up once the window has passed. A printer
    that says what is wrong (out of paper, cover open) is reported to managers at once.
    Returns the job's new state (None: not this kiosk's job, or no longer being printed)."""
    job = uow.session.get(PrintJob, job_id, populate_existing=True)
    if job is None or job.site_code != uow.site.code or job.state != "printing":
        return None
    if kiosk is not None and job.kiosk != kiosk:
        return None
    number = _number_of(uow, job)
    job.last_error = error[:500]
    if uow.now >= job.created_at + timedelta(seconds=RETRY_WINDOW_S):
        _abandon(uow, job, number)
        return job.state
    if printer_fault and not _kiosk_already_failing(uow, job):
        _alert(
            uow,
            f"取号机{job.kiosk}的打印机故障：{error}；{number}号稍后自动重打",
            job.kiosk,
            number=number,
            error=job.last_error,
        )
    delay = RETRY_DELAYS_S[min(job.attempts, len(RETRY_DELAYS_S)) - 1] if job.attempts else 2.0
    job.state = "failed"
    job.next_try_at = uow.now + timedelta(seconds=delay)
    uow.session.flush()
    return job.state


def abandon_overdue(uow: UnitOfWork) -> int:
    """Give up jobs whose window has passed: due ones nobody could print, and claims of a
    worker that died (an agent's unacknowledged jobs, too). Each gets a manager alert."""
    window_start = uow.now - timedelta(seconds=RETRY_WINDOW_S)
    stale_claim = uow.now - timedelta(seconds=STALE_CLAIM_S)
    overdue = list(
        uow.session.scalars(
            select(PrintJob)
            .where(
                PrintJob.site_code == uow.site.code,
                PrintJob.created_at <= window_start,
                or_(
                    PrintJob.state.in_(("queued", "failed")),
                    and_(PrintJob.state == "printing", PrintJob.claimed_at <= stale_claim),
                ),
            )
            .order_by(PrintJob.id)
            .with_for_update(skip_locked=True)
        )
    )
    for job in overdue:
        _abandon(uow, job, _number_of(uow, job))
    return len(overdue)


def _abandon(uow: UnitOfWork, job: PrintJob, number: str) -> None:
    job.state = "abandoned"
    reason = f"：{job.last_error}" if job.last_error else ""
    _alert(
        uow,
        f"{number}号（取号机{job.kiosk}）一分钟内未能打印，已停止自动重打{reason}。请核实后补打",
        job.kiosk,
        ticket=number,
        error=job.last_error,
    )
    uow.session.flush()


def _kiosk_already_failing(uow: UnitOfWork, job: PrintJob) -> bool:
    """One alert when a printer starts failing, not one per ticket queued behind it."""
    other = uow.session.scalar(
        select(PrintJob.id)
        .where(
            PrintJob.site_code == job.site_code,
            PrintJob.kiosk == job.kiosk,
            PrintJob.state == "failed",
            PrintJob.id != job.id,
        )
        .limit(1)
    )
    return other is not None or job.attempts > 1


def _number_of(uow: UnitOfWork, job: PrintJob) -> str:
    number = job.view.get("number") if isinstance(job.view, dict) else None
    return str(number or job.ticket_id)


def _alert(
    uow: UnitOfWork, message: str, kiosk: str, ticket: str | None = None, **figures: Any
) -> None:
    """The message in Chinese; the figures let the managers' page say it in its language."""
    detail: dict[str, Any] = {"kiosk": kiosk, **figures}
    if ticket is not None:
        detail["ticket"] = ticket
    uow.happened(AlertRaised(uow.site.code, "printer", message, uow.local_now, detail=detail))
