"""One transaction per entry-point call: its event log rows, and the hall events the world
hears of after the commit."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from queue_server.config import HallConfig, SiteConfig, UserConfig
from queue_server.db import UTCDateTime, is_retryable
from queue_server.domain.events import HallEvent
from queue_server.models import Event, SiteSequence, Step, Ticket
from queue_server.services.estimates import EVENT_SEQ, EstimateCache

ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class HallContext:
    """What every use case may need besides the database: the hall, the secret, the clock."""

    config: HallConfig
    secret: bytes
    clock: Callable[[], datetime]
    writer_gate: AbstractContextManager[Any] = field(default_factory=nullcontext)
    estimates: EstimateCache = field(default_factory=EstimateCache)  # this process's copy

    @cached_property
    def users(self) -> dict[str, UserConfig]:
        """The staff by user name (a clerk's name on a counter or a step), once per hall."""
        return {user.username: user for user in self.config.users}


# Built once: building a statement costs more than running it.
ADVANCE_EVENT_SEQ = (
    update(SiteSequence)
    .where(SiteSequence.site_code == bindparam("site"), SiteSequence.name == "event")
    .values(value=SiteSequence.value + bindparam("count"))
    .returning(SiteSequence.value)
)
INSERT_EVENTS = insert(Event)
# PostgreSQL numbers and inserts a commit's events in one statement, one round trip less on
# every write (docs/PERFORMANCE.md, run N): the sequence row's UPDATE as a data-modifying
# CTE, the rows as arrays (one statement for any count, so it stays prepared). The row is
# still locked last, until the commit, so seq order is commit order.
NUMBER_AND_INSERT_EVENTS = text(
    """
WITH advanced AS (
    UPDATE site_sequences SET value = value + :count
    WHERE site_code = :site AND name = 'event'
    RETURNING value
), inserted AS (
    INSERT INTO events (site_code, seq, at, actor, kind, ticket_id, step_id, counter_number,
                        from_state, to_state, detail)
    SELECT :site, advanced.value - :count + given.ord, :at, :actor, given.kind,
           given.ticket_id, given.step_id, given.counter_number, given.from_state,
           given.to_state, given.detail::json
    FROM advanced,
         unnest(CAST(:kinds AS varchar[]), CAST(:ticket_ids AS varchar[]),
                CAST(:step_ids AS integer[]), CAST(:counter_numbers AS integer[]),
                CAST(:from_states AS varchar[]), CAST(:to_states AS varchar[]),
                CAST(:details AS text[]))
         WITH ORDINALITY AS given(kind, ticket_id, step_id, counter_number, from_state,
                                  to_state, detail, ord)
)
SELECT value FROM advanced
"""
).bindparams(bindparam("at", type_=UTCDateTime()))


@dataclass
class UnitOfWork:
    session: Session
    hall: HallContext
    site: SiteConfig
    now: datetime
    zone: ZoneInfo  # the site's, looked up once per unit of work
    today: date  # the business day of `now` there
    actor: str
    base_url: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)  # rows of the event log
    happenings: list[HallEvent] = field(default_factory=list)  # told after the commit
    seq: int | None = None

    @classmethod
    def begin(
        cls, session: Session, hall: HallContext, site: SiteConfig, actor: str, base_url: str = ""
    ) -> UnitOfWork:
        """A unit of work at the hall clock's now."""
        now = hall.clock()
        zone = site.zone
        return cls(session, hall, site, now, zone, now.astimezone(zone).date(), actor, base_url)

    @property
    def local_now(self) -> datetime:
        """`now` in the hall's time zone."""
        return self.now.astimezone(self.zone)

    def record(
        self,
        kind: str,
        *told: HallEvent,
        ticket: Ticket | None = None,
        step: Step | None = None,
        counter_number: int | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        **detail: Any,
    ) -> None:
        """A row of the event log; and what the change `told` the hall, if anything (as
        `happened`, after the hall events recorded before)."""
        self.happenings.extend(told)
        self.events.append(
            {
                "site_code": self.site.code,
                "at": self.now,
                "actor": self.actor,
                "kind": kind,
                "ticket_id": ticket.id if ticket else None,
                "step_id": step.id if step else None,
                "counter_number": counter_number,
                "from_state": from_state,
                "to_state": to_state,
                "detail": detail,
            }
        )

    def happened(self, *events: HallEvent) -> None:
        """Record what happened in the hall; it is told after the commit, in this order."""
        self.happenings.extend(events)

    def commit(self) -> None:
        """Number the events from the site's sequence row last, so its lock is held briefly
        and seq order is commit order. `seq` is then the last one: what the hall events told
        after the commit reflect."""
        if self.events:
            self.session.flush()
            connection = self.session.connection()
            if connection.dialect.name == "postgresql":
                self.seq = connection.execute(
                    NUMBER_AND_INSERT_EVENTS, self._events_as_arrays()
                ).scalar_one()
                self._number_events(self.seq)
            else:
                self.seq = connection.execute(
                    ADVANCE_EVENT_SEQ, {"site": self.site.code, "count": len(self.events)}
                ).scalar_one()
                self._number_events(self.seq)
                # A plain INSERT: the log is append-only and nothing reads these rows back.
                connection.execute(INSERT_EVENTS, self.events)
        elif self.happenings:
            self.seq = self.session.connection().scalar(EVENT_SEQ, {"site": self.site.code}) or 0
        self.session.commit()

    def _number_events(self, last: int) -> None:
        first = last - len(self.events) + 1
        for offset, event in enumerate(self.events):
            event["seq"] = first + offset

    def _events_as_arrays(self) -> dict[str, Any]:
        """`NUMBER_AND_INSERT_EVENTS`'s parameters: a column an array. Every row of a unit
        of work has its site, time and actor (`record`), so those are given once."""
        events = self.events
        return {
            "site": self.site.code,
            "count": len(events),
            "at": self.now,
            "actor": self.actor,
            "kinds": [event["kind"] for event in events],
            "ticket_ids": [event["ticket_id"] for event in events],
            "step_ids": [event["step_id"] for event in events],
            "counter_numbers": [event["counter_number"] for event in events],
            "from_states": [event["from_state"] for event in events],
            "to_states": [event["to_state"] for event in events],
            # As SQLAlchemy's JSON type writes it (its default serializer is json.dumps).
            "details": [json.dumps(event["detail"]) for event in events],
        }


def run_in_transaction(
    sessions: sessionmaker[Session],
    hall: HallContext,
    site: SiteConfig,
    actor: str,
    use_case: Callable[..., ResultT],
    *args: Any,
    base_url: str = "",
    attempts: int = 4,
    **kwargs: Any,
) -> tuple[ResultT, UnitOfWork]:
    """Run a use case in its own transaction, again on lock contention; its hall events are
    for after the commit, and dropped with a rollback."""
    for attempt in range(1, attempts + 1):
        session = sessions()
        try:
            with hall.writer_gate:
                uow = UnitOfWork.begin(session, hall, site, actor, base_url)
                result = use_case(uow, *args, **kwargs)
                uow.commit()
            return result, uow
        except (OperationalError, IntegrityError) as error:
            session.rollback()
            if attempt == attempts or not _worth_retrying(error):
                raise
            time.sleep(0.005 * attempt)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    raise AssertionError("unreachable")


def _worth_retrying(error: BaseException) -> bool:
    if isinstance(error, IntegrityError):
        # Two first tickets of one person at once: the retry finds and reuses the winner's.
        # (Two bookings of one person at once: the retry answers `already_booked`.)
        text = str(error.orig)
        return any(
            mark in text
            for mark in ("identity_hash", "phone_hash", "uq_tickets_open", "uq_appointments_open")
        )
    return is_retryable(error)
