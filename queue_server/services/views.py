"""Read models: the ticket (T of SPEC §4), lines, counters and the display snapshot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from functools import cache, cached_property
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, or_, select, tuple_, union_all

from queue_server.config import SiteConfig, UserConfig
from queue_server.db import UTCDateTime
from queue_server.domain.calendar import opening_words
from queue_server.domain.dispatch import (
    CounterPlan,
    PriorityClass,
    WaitingStep,
    distinct_plans,
    line_order,
)
from queue_server.domain.estimates import Estimate, places_ahead
from queue_server.domain.events import CounterChanged, TicketCalled, TicketChanged
from queue_server.domain.lifecycle import TicketState, state_as_read
from queue_server.domain.numbering import call_words
from queue_server.models import STEP_IS_WAITING, Counter, Event, Step, Ticket
from queue_server.services.estimates import (
    COUNTER_STATES,
    EVENT_SEQ,
    SITE_WAITING_STEPS,
    WAITING_COLUMNS,
    Board,
    waiting_step,
)
from queue_server.services.unit_of_work import UnitOfWork

# What a visitor's own page shows of the ticket (never staff fields, never the id).
PUBLIC_TICKET_KEYS = (
    "number",
    "state",
    "queue",
    "queue_name",
    "service",
    "service_name",
    "services",
    "step",
    "steps_total",
    "waiting_ahead",
    "est_wait_s",
    "est_wait_range_s",
    "counter",
    "reason",
    "return_until",
    "reinstate_until",
    "held_at_counter",
    "line_open",
    "location",
    "hold_reason",
    "green",
    "pickup_on",
)
# A reused answer and the kiosk's look-up: what anyone who knows an identity may see (SPEC §2).
REDUCED_TICKET_KEYS = (
    "number",
    "queue",
    "services",
    "state",
    "waiting_ahead",
    "est_wait_s",
    "line_open",
    "location",
)


def business_day(site: SiteConfig, now: datetime) -> date:
    return now.astimezone(site.zone).date()


def local_iso(site: SiteConfig, moment: datetime | None) -> str | None:
    return _iso(site.zone, moment)


def _iso(zone: tzinfo, moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(zone).isoformat(timespec="seconds")


def waiting_steps(uow: UnitOfWork, queues: list[str] | None = None) -> list[Step]:
    """Today's waiting steps of the site (earlier days' are expired, whether or not the
    day-close job has run)."""
    query = select(Step).where(
        Step.site_code == uow.site.code,
        Step.business_day == uow.today,
        STEP_IS_WAITING,
    )
    if queues is not None:
        query = query.where(Step.queue_code.in_(queues))
    return list(uow.session.scalars(query))


def site_seq(uow: UnitOfWork) -> int:
    """The site's event seq (the prebuilt statement the estimate boards read too)."""
    return uow.session.scalar(EVENT_SEQ, {"site": uow.site.code}) or 0


def user_of(uow: UnitOfWork, username: str | None) -> UserConfig | None:
    return uow.hall.users.get(username) if username else None


def _position_statements(line_name: str) -> tuple[Any, Any, Any, Any]:
    """`position`'s COUNTs, built once with bind parameters (building a statement costs more
    than running it). The call order is domain.dispatch.call_rank's: overdue steps first by
    enqueue time, then class, sort_at, enqueued_at, id; tests/integration/test_positions.py
    holds the two to agreement.

    For a step not yet overdue, "ahead" is the rest of the line less those behind it (not
    overdue and later in that order): two index-only COUNTs, the first of the whole line
    with nothing to test per entry, the second a short range, cost well under half of one
    COUNT testing the order on every entry of a long line."""
    now = bindparam("now", type_=UTCDateTime())
    line = select(func.count()).where(
        Step.site_code == bindparam("site"),
        Step.business_day == bindparam("day"),
        STEP_IS_WAITING,
        Step.queue_code == bindparam(line_name),
    )
    others = line.where(Step.id != bindparam("step_id"))
    mine = tuple_(
        bindparam("priority_class"),
        bindparam("sort_at", type_=UTCDateTime()),
        bindparam("enqueued_at", type_=UTCDateTime()),
        bindparam("step_id"),
    )
    theirs = tuple_(Step.priority_class, Step.sort_at, Step.enqueued_at, Step.id)
    behind_not_overdue = others.where(Step.overdue_at > now, theirs > mine)
    ahead_overdue = others.where(
        Step.overdue_at <= now,
        tuple_(Step.enqueued_at, Step.id)
        < tuple_(bindparam("enqueued_at", type_=UTCDateTime()), bindparam("step_id")),
    )
    overdue_in_line = line.where(Step.overdue_at <= now)
    return line, behind_not_overdue, ahead_overdue, overdue_in_line


WHOLE_LINE, BEHIND_NOT_OVERDUE, AHEAD_OVERDUE, OVERDUE_IN_LINE = range(4)  # the counts' kinds


@cache  # one per shape: building a statement costs more than running it
def counts_statement(wanted: tuple[tuple[int, int], ...]) -> Any:
    """One SELECT of the counts `position` needs, each (kind, n) the kind's COUNT of the
    line bound as `queue{n}`, as scalar subqueries: every COUNT keeps its own index-only
    plan, and a ticket's position is one round trip (it was one per count, four for a
    ticket of a two-line counter)."""
    per_line = {n: _position_statements(f"queue{n}") for n in {n for _, n in wanted}}
    return select(*(per_line[n][kind].scalar_subquery() for kind, n in wanted))


@cache  # one per shape: building a statement costs more than running it
def line_heads_statement(lines: int, for_counter: bool) -> Any:
    """`line_heads`' one query for `lines` lines (their codes bound as queue0, queue1, …):
    per line, the first overdue steps by enqueue time and the first of the others in call
    order, each an indexed ORDER BY ... LIMIT, joined by UNION ALL so a counter's lines
    are one round trip (they were two per line). `for_counter` leaves out steps kept for
    another counter."""
    now = bindparam("now", type_=UTCDateTime())
    limit: Any = bindparam("limit")
    parts = []
    for index in range(lines):
        base = select(*WAITING_COLUMNS).where(
            Step.site_code == bindparam("site"),
            Step.business_day == bindparam("day"),
            STEP_IS_WAITING,
            Step.queue_code == bindparam(f"queue{index}"),
        )
        if for_counter:
            base = base.where(
                or_(Step.reserved_counter.is_(None), Step.reserved_counter == bindparam("counter"))
            )
        overdue = base.where(Step.overdue_at <= now).order_by(Step.enqueued_at, Step.id)
        others = base.where(Step.overdue_at > now).order_by(
            Step.priority_class, Step.sort_at, Step.enqueued_at, Step.id
        )
        # Wrapped: SQLite takes no ORDER BY or LIMIT on a member of a compound SELECT.
        parts += [select(part.limit(limit).subquery()) for part in (overdue, others)]
    return union_all(*parts)


# Every waiting step of a site, cut at a limit (`HallState.load_lines_within`).
SITE_WAITING_WITHIN = SITE_WAITING_STEPS.limit(bindparam("limit"))


class Ahead(NamedTuple):
    """Of one line, how many are called before a step: `constant` + Σ sign × the COUNT of
    that kind (`counts`: (sign, kind) pairs)."""

    line: str
    constant: int
    counts: tuple[tuple[int, int], ...]


class HallState:
    """A consistent look at the site inside one transaction, each part loaded once and only
    when asked for (issuing a ticket needs one line, the screens need all of them)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.site = uow.site
        self.now = uow.now
        self.today = uow.today
        self._lines: dict[str, list[WaitingStep]] = {}
        self._summaries: list[dict[str, Any]] | None = None
        self._places: dict[str, dict[int, int]] = {}  # queue -> step id -> people ahead
        self._counts: dict[tuple[int, int, str], int] = {}  # (kind, step id, line) -> count

    def _load_lines(self, queues: list[str]) -> None:
        missing = [code for code in queues if code not in self._lines]
        if not missing:
            return
        rows = self.uow.session.execute(
            SITE_WAITING_STEPS.where(Step.queue_code.in_(missing)),
            {"site": self.site.code, "day": self.today},
        ).all()
        self._keep_lines(missing, rows)

    def load_lines_within(self, rows: int) -> None:
        """Every line of the site loaded whole if at most `rows` steps wait in all (one
        statement, cut at `rows` + 1); else nothing kept, and places are counted. For a few
        tickets' places, a short hall's lines cost less than a COUNT statement a ticket."""
        codes = [queue.code for queue in self.site.queues]
        if all(code in self._lines for code in codes):
            return
        self.uow.session.flush()  # a Core statement does not autoflush
        found = (
            self.uow.session.connection()
            .execute(
                SITE_WAITING_WITHIN,
                {"site": self.site.code, "day": self.today, "limit": rows + 1},
            )
            .all()
        )
        if len(found) <= rows:
            self._keep_lines(codes, found)

    def _keep_lines(self, codes: list[str], rows: Sequence[Any]) -> None:
        """The waiting `rows` of the lines `codes` (all of them) as each line in call order."""
        lines: dict[str, list[WaitingStep]] = {code: [] for code in codes}
        for row in rows:
            lines.setdefault(row.queue_code, []).append(waiting_step(row))
        for code, steps in lines.items():
            self._lines[code] = line_order(steps, self.now)

    def _line_statement_inputs(self, lines: list[str]) -> tuple[Any, dict[str, Any]]:
        """The connection and the common parameters of the prebuilt statements of `lines`
        (bound as queue0, queue1, …)."""
        self.uow.session.flush()  # a Core statement does not autoflush
        parameters = {"site": self.site.code, "day": self.today, "now": self.now}
        parameters.update({f"queue{index}": line for index, line in enumerate(lines)})
        return self.uow.session.connection(), parameters

    def line_head(self, queue: str, limit: int, counter: int | None = None) -> list[WaitingStep]:
        """The first `limit` of a line in call order (`line_heads`)."""
        return self.line_heads([queue], limit, counter)[queue]

    def line_heads(
        self, queues: list[str], limit: int, counter: int | None = None
    ) -> dict[str, list[WaitingStep]]:
        """The first `limit` of each line in call order, without loading the rest, in one
        query (`line_heads_statement`). With `counter`, only steps that counter may call
        (not kept for another). The parts' ORDER BYs are `call_rank`'s, so sorting the rows
        by it gives each line's head (tests/integration/test_positions.py)."""
        heads: dict[str, list[WaitingStep]] = {}
        missing = [code for code in dict.fromkeys(queues) if code not in self._lines]
        if missing:
            connection, parameters = self._line_statement_inputs(missing)
            parameters.update(counter=counter, limit=limit)
            statement = line_heads_statement(len(missing), counter is not None)
            found: dict[str, list[WaitingStep]] = {code: [] for code in missing}
            for row in connection.execute(statement, parameters):
                found[row.queue_code].append(waiting_step(row))
            for code, steps in found.items():
                heads[code] = line_order(steps, self.now)[:limit]
        for code in queues:
            if code in self._lines:
                line = self._lines[code]
                if counter is not None:
                    line = [step for step in line if step.reserved_counter in (None, counter)]
                heads[code] = line[:limit]
        return heads

    def line(self, queue: str) -> list[WaitingStep]:
        """One line's waiting steps in call order."""
        self._load_lines([queue])
        return self._lines[queue]

    @cached_property
    def counters(self) -> list[Counter]:
        return list(
            self.uow.session.scalars(
                select(Counter).where(Counter.site_code == self.site.code).order_by(Counter.number)
            )
        )

    @cached_property
    def counter_states(self) -> list[Any]:
        """Every counter's number, lines, strategy, state and ticket in hand (one query)."""
        self.uow.session.flush()  # a Core statement does not autoflush
        return list(self.uow.session.connection().execute(COUNTER_STATES, {"site": self.site.code}))

    def serving(self, queue: str) -> list[Any]:
        return [row for row in self.counter_states if queue in row.queues]

    def line_open(self, queue: str) -> bool:
        """Some counter serving the line is open or paused (SPEC §4 `line_open`)."""
        return any(row.state in ("open", "paused") for row in self.serving(queue))

    def open_plans(self, queue: str) -> list[CounterPlan]:
        """The call plans of the open counters serving the line, each distinct plan once (a
        plan's count of who is ahead does not depend on the counter's number)."""
        return distinct_plans(
            CounterPlan(row.number, tuple(row.queues), row.strategy)
            for row in self.serving(queue)
            if row.state == "open"
        )

    @cached_property
    def board(self) -> Board:
        """The estimates of the site (services/estimates.py): read, never computed per
        request in a served hall."""
        return self.uow.hall.estimates.board(self.uow)

    def estimate_of(self, step: Step, green: bool, waiting_ahead: int) -> Estimate | None:
        """The board's estimate of a waiting step, counting for one the board has not seen
        the calls its line's counters made since (their tickets in hand now, not then)."""
        board = self.board
        serving = self.serving(step.queue_code)
        called_since = sum(
            1
            for row in serving
            if row.current_ticket_id and row.current_ticket_id not in board.in_hand
        )
        free_now = sum(1 for row in serving if row.state == "open" and not row.current_ticket_id)
        return board.of_step(step.id, step.queue_code, green, waiting_ahead, called_since, free_now)

    def line_estimate(self, queue: str) -> int | None:
        """What the next ticket of the line would wait (`GET /queues` `est_wait_s`)."""
        joining = self.board.joining.get((queue, False))
        return joining.est_wait_s if joining is not None else None

    def position(self, step_id: int, queue: str, step: Any = None) -> int:
        """How many tickets the open counters serving the line will call before this step:
        over those counters, the fewest any one of them would call first on its own, across
        all its lines (SPEC §4); with none open, the line's own order. Looked up when the
        lines are loaded anyway, else counted in SQL (index-only COUNTs, never one row each)."""
        plans = self.open_plans(queue)
        queues = sorted({code for plan in plans for code in plan.queues} | {queue})
        if all(code in self._lines for code in queues):
            return self._loaded_position(step_id, queue, plans)
        row = (
            step
            or self.uow.session.execute(
                select(*WAITING_COLUMNS, Step.status).where(Step.id == step_id)
            ).one()
        )
        # Per open counter's plan, each of its lines; with none open, the line's own order.
        lines_of_plans: list[list[tuple[CounterPlan | None, str]]] = [
            [(plan, code) for code in plan.queues] for plan in plans
        ] or [[(None, queue)]]
        ahead = [
            [self._ahead_in(row, queue, line, plan) for plan, line in lines]
            for lines in lines_of_plans
        ]
        wanted = {(kind, term.line) for terms in ahead for term in terms for _, kind in term.counts}
        self._fetch_counts(row, step_id, wanted)
        return min(sum(self._ahead_value(term, step_id) for term in terms) for terms in ahead)

    def _loaded_position(self, step_id: int, queue: str, plans: list[CounterPlan]) -> int:
        if not plans:
            places = self._places.get(queue)
            if places is None:
                places = self._places[queue] = {
                    step.step_id: index for index, step in enumerate(self._lines[queue])
                }
            return places.get(step_id, len(self._lines[queue]))
        target = next((step for step in self._lines[queue] if step.step_id == step_id), None)
        if target is None:  # not waiting (yet): behind everyone
            return min(sum(len(self._lines[code]) for code in plan.queues) for plan in plans)
        lines = {code for plan in plans for code in plan.queues}
        waiting = [item for code in sorted(lines) for item in self._lines[code]]
        return places_ahead(target, waiting, plans, self.now)  # T's rule, as the boards count

    def _ahead_in(self, row: Any, queue: str, line: str, plan: CounterPlan | None) -> Ahead:
        """Of `line`, how many a counter with `plan` (None: the line's own order) calls
        before the step `row` of `queue`, like `calls_before`, as a sum of the counts."""
        if self.now >= row.overdue_at:
            return Ahead(line, 0, ((1, AHEAD_OVERDUE),))
        if plan is not None and plan.strategy == "ordered" and line != queue:
            if plan.queues.index(line) < plan.queues.index(queue):
                return Ahead(line, 0, ((1, WHOLE_LINE),))
            return Ahead(line, 0, ((1, OVERDUE_IN_LINE),))
        in_line = row.status == "waiting" and row.queue_code == line
        return Ahead(line, -1 if in_line else 0, ((1, WHOLE_LINE), (-1, BEHIND_NOT_OVERDUE)))

    def _ahead_value(self, term: Ahead, step_id: int) -> int:
        counted = (sign * self._counts[kind, step_id, term.line] for sign, kind in term.counts)
        return term.constant + sum(counted)

    def _fetch_counts(self, row: Any, step_id: int, wanted: set[tuple[int, str]]) -> None:
        """The counts not yet known in this look, in one statement (`counts_statement`)."""
        missing = sorted(key for key in wanted if (key[0], step_id, key[1]) not in self._counts)
        if not missing:
            return
        lines = list(dict.fromkeys(line for _, line in missing))
        connection, parameters = self._line_statement_inputs(lines)
        parameters.update(
            step_id=step_id,
            priority_class=row.priority_class,
            sort_at=row.sort_at,
            enqueued_at=row.enqueued_at,
        )
        statement = counts_statement(tuple((kind, lines.index(line)) for kind, line in missing))
        for (kind, line), count in zip(
            missing, connection.execute(statement, parameters).one(), strict=True
        ):
            self._counts[kind, step_id, line] = int(count or 0)

    def queue_summaries(self) -> list[dict[str, Any]]:
        """Count and longest wait of every line, in one aggregate query (once per look)."""
        if self._summaries is None:
            self._summaries = self._queue_summaries()
        return self._summaries

    def _queue_summaries(self) -> list[dict[str, Any]]:
        rows = self.uow.session.execute(
            select(Step.queue_code, func.count(), func.min(Step.enqueued_at))
            .where(
                Step.site_code == self.site.code,
                Step.business_day == self.today,
                STEP_IS_WAITING,
            )
            .group_by(Step.queue_code)
        ).all()
        counts = {code: (count, oldest) for code, count, oldest in rows}
        summaries = []
        for queue in self.site.queues:
            waiting, oldest = counts.get(queue.code, (0, None))
            summaries.append(
                {
                    "code": queue.code,
                    "name": queue.name,
                    "waiting": waiting,
                    "est_wait_s": self.line_estimate(queue.code),
                    "longest_wait_s": int((self.now - oldest).total_seconds()) if oldest else 0,
                }
            )
        return summaries


STEPS_OF_TICKET = select(Step).where(Step.ticket_id == bindparam("ticket")).order_by(Step.position)


VISIT_STEPS = STEPS_OF_TICKET.execution_options(populate_existing=True)


def visit_steps(uow: UnitOfWork, ticket: Ticket) -> tuple[Step, list[Step]]:
    """The step the visit is at now and all its steps in order, fresh from the database (the
    ticket locked first): a use case that adds no step hands the list to the view, which
    then reads no steps of its own."""
    steps = list(uow.session.scalars(VISIT_STEPS, {"ticket": ticket.id}))
    current = next((step for step in steps if step.position == ticket.current_step), None)
    if current is None:
        raise AssertionError(f"ticket {ticket.id} has no step {ticket.current_step}")
    return current, steps


def steps_of(uow: UnitOfWork, ticket: Ticket) -> list[Step]:
    return list(uow.session.scalars(STEPS_OF_TICKET, {"ticket": ticket.id}))


CURRENT_STEP = (
    select(Step)
    .where(Step.ticket_id == bindparam("ticket"), Step.position == bindparam("position"))
    .execution_options(populate_existing=True)
)


def current_step(uow: UnitOfWork, ticket: Ticket) -> Step:
    """The step the visit is at now, fresh from the database."""
    return uow.session.scalars(
        CURRENT_STEP, {"ticket": ticket.id, "position": ticket.current_step}
    ).one()


def visit_services(steps: list[Step]) -> list[str]:
    seen: list[str] = []
    for step in steps:
        for code in step.services:
            if code not in seen:
                seen.append(code)
    return seen


def visible_state(uow: UnitOfWork, ticket: Ticket, step: Step | None = None) -> str:
    """The state a ticket reads now (`lifecycle.state_as_read`); a missed one's step is
    looked up only for its time."""
    missed_at = None
    if ticket.state == TicketState.MISSED:
        missed_at = (step if step is not None else current_step(uow, ticket)).ended_at
    return state_as_read(
        ticket.state,
        ticket.business_day,
        missed_at,
        today=uow.today,
        now=uow.now,
        grace=grace(uow),
    )


def grace(uow: UnitOfWork) -> timedelta:
    return timedelta(minutes=uow.site.policy.no_show_grace_min)


# A step ended this way goes on in a step of its own, inside the same step of the plan.
MOVES_WITHIN_PLAN = ("transferred", "held", "no_show")


def plan_position(steps: list[Step], current: int) -> tuple[int, int]:
    """(index of the current plan step, the plan's length): the visit's businesses' steps
    only; a transfer, a return after a hold or a reinstatement moves the visitor within
    the plan and never adds to it (SPEC §2)."""
    index = total = 0
    previous: Step | None = None
    for step in steps:
        if previous is None or previous.outcome not in MOVES_WITHIN_PLAN:
            total += 1
        if step.position <= current:
            index = total
        previous = step
    return index, total


def line_location(site: SiteConfig, queue: str) -> str | None:
    """Where a line's visitors wait: the location of the counters that serve it."""
    return next(
        (c.location for c in site.counters if queue in c.queues and c.location),
        None,
    )


def ticket_view(
    uow: UnitOfWork,
    ticket: Ticket,
    *,
    staff: bool = False,
    state: HallState | None = None,
    steps: list[Step] | None = None,
) -> dict[str, Any]:
    """T of SPEC §4; `steps` may be given when the caller has just written all of them."""
    site = uow.site
    zone = uow.zone
    steps = steps if steps is not None else steps_of(uow, ticket)
    step = next(step for step in steps if step.position == ticket.current_step)
    service = site.service(ticket.service_code)
    ticket_state = visible_state(uow, ticket, step)
    waiting_ahead: int | None = None
    est_wait_s: int | None = None
    est_range: list[int] | None = None
    line_open: bool | None = None
    if ticket_state == "waiting":
        state = state or HallState(uow)
        line_open = state.line_open(step.queue_code)
        waiting_ahead = state.position(step.id, step.queue_code, step)
        green = step.priority_class == PriorityClass.GREEN
        estimate = state.estimate_of(step, green, waiting_ahead) if line_open else None
        if estimate is not None and estimate.est_wait_s is not None:
            est_wait_s = estimate.est_wait_s
            est_range = list(estimate.range_s) if estimate.range_s else None
    elif ticket_state in ("called", "serving"):
        waiting_ahead, est_wait_s, line_open = 0, 0, True
    elif ticket_state in ("held", "missed"):
        line_open = (state or HallState(uow)).line_open(step.queue_code)
    at_counter = ticket_state in ("called", "serving")
    plan_step, plan_total = plan_position(steps, ticket.current_step)
    view: dict[str, Any] = {
        "id": ticket.id,
        "number": ticket.number,
        "queue": step.queue_code,
        "queue_name": _queue_name(site, step.queue_code),
        "service": ticket.service_code,
        "service_name": service.name if service else ticket.service_code,
        "services": visit_services(steps),
        "category": service.category if service else None,
        "state": ticket_state,
        "step": plan_step,
        "steps_total": plan_total,
        "waiting_ahead": waiting_ahead,
        "est_wait_s": est_wait_s,
        "est_wait_range_s": est_range,
        "issued_at": _iso(zone, ticket.issued_at),
        "status_url": f"{uow.base_url.rstrip('/')}/t/{ticket.id}",
        "counter": step.counter_number if at_counter else None,
        "reason": step.call_reason if at_counter else None,
        "return_until": None,
        "reinstate_until": None,
        "location": line_location(site, step.queue_code),
        "line_open": line_open,
        "hold_reason": step.hold_reason if ticket_state == "held" else None,
        "green": ticket.priority == "green",  # the green channel's mark (绿色通道)
        "pickup_on": ticket.pickup_on.isoformat() if ticket.pickup_on else None,  # 出件 later
        "visit_of": _visit_of(uow, ticket),
    }
    if ticket_state == "held" and step.ended_at:
        view["return_until"] = _iso(
            zone, step.ended_at + timedelta(minutes=site.policy.return_window_min)
        )
        view["held_at_counter"] = step.counter_number if step.keep_counter else None
    if ticket_state == "missed" and step.ended_at:
        view["reinstate_until"] = _iso(zone, step.ended_at + grace(uow))
    if staff:
        view.update(
            party=ticket.party,
            headcount=ticket.headcount,
            priority=ticket.priority,
            visitor_id_masked=ticket.identity_masked,
            phone_masked=ticket.phone_masked,
            steps=[step_view(uow, item) for item in steps],
        )
    return view


def _visit_of(uow: UnitOfWork, ticket: Ticket) -> dict[str, str] | None:
    """The visit whose pickup this ticket carries (SPEC §8, services/visits.py)."""
    if ticket.visit_of is None:
        return None
    visit = uow.session.get(Ticket, ticket.visit_of)
    return {"number": visit.number, "date": visit.business_day.isoformat()} if visit else None


def reduced_ticket(view: Mapping[str, Any]) -> dict[str, Any]:
    """What knowing a visitor's ID, credit code or phone shows of their ticket (SPEC §2): no
    `id`, no `status_url`, nothing that gives control of it."""
    return {key: view.get(key) for key in REDUCED_TICKET_KEYS}


# A site with up to this many waiting a ticket asked about has its lines read whole (a place
# is then a lookup) rather than each place counted: about what one COUNT statement of a
# place costs, in rows read and put in call order, by database (`python -m
# bench.positions_cost`: 10 places, the crossing near 110 waiting on SQLite, 250 on
# PostgreSQL).
ROWS_PER_COUNT = {"sqlite": 10, "postgresql": 25}
IN_CHUNK = 500


def ticket_views(
    uow: UnitOfWork, ticket_ids: list[str], state: HallState
) -> dict[str, dict[str, Any]]:
    """The views of many tickets of this site from one look at it: tickets and steps read
    a chunk at a time, not one ticket at a time (the phones' position updates: 2,000
    phones took ≈1 s a round one by one); the site's lines read whole when few enough wait
    for the tickets asked (`ROWS_PER_COUNT`), else each place counted."""
    dialect = uow.session.get_bind().dialect.name
    state.load_lines_within(len(ticket_ids) * ROWS_PER_COUNT.get(dialect, 0))
    views: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ticket_ids), IN_CHUNK):
        chunk = ticket_ids[start : start + IN_CHUNK]
        tickets = uow.session.scalars(
            select(Ticket).where(Ticket.id.in_(chunk), Ticket.site_code == uow.site.code)
        ).all()
        steps: dict[str, list[Step]] = {}
        for step in uow.session.scalars(
            select(Step).where(Step.ticket_id.in_(chunk)).order_by(Step.position)
        ):
            steps.setdefault(step.ticket_id, []).append(step)
        for ticket in tickets:
            views[ticket.id] = ticket_view(uow, ticket, state=state, steps=steps[ticket.id])
    return views


def step_view(uow: UnitOfWork, step: Step) -> dict[str, Any]:
    clerk = user_of(uow, step.clerk_username)
    return {
        "position": step.position,
        "queue": step.queue_code,
        "services": step.services,
        "status": step.status,
        "outcome": step.outcome,
        "reason": step.reason,
        "call_reason": step.call_reason,
        "enqueued_at": _iso(uow.zone, step.enqueued_at),
        "called_at": _iso(uow.zone, step.called_at),
        "started_at": _iso(uow.zone, step.started_at),
        "ended_at": _iso(uow.zone, step.ended_at),
        "counter": step.counter_number,
        "clerk_name": clerk.name if clerk else None,
        "recalls": step.recalls,
        "hold_reason": step.hold_reason,
        "keep_counter": step.keep_counter,
        "rating": step.rating,
    }


def public_ticket(view: Mapping[str, Any]) -> dict[str, Any]:
    """The `/ticket` live payload: what the visitor's own page needs, nothing of staff's."""
    return {key: view.get(key) for key in PUBLIC_TICKET_KEYS}


def _queue_name(site: SiteConfig, code: str) -> str:
    queue = site.queue(code)
    return queue.name if queue else code


def announcement(
    uow: UnitOfWork, counter: Counter, ticket: Ticket, step: Step, *, recall: bool, at: datetime
) -> dict[str, Any]:
    """The call of a ticket to a counter as the screens show and speak it (SPEC §5 `call`):
    no ticket id, no personal data."""
    text, speech = call_words(ticket.number, counter.number, counter.location)
    return {
        "number": ticket.number,
        "counter": counter.number,
        "counter_name": counter.name,
        "location": counter.location,
        "queue": step.queue_code,
        "recall": recall,
        "reason": step.call_reason,
        "text": text,
        "speech": speech,
        "at": at.astimezone(uow.zone).isoformat(timespec="seconds"),
    }


def counter_payload(
    uow: UnitOfWork, counter: Counter, current_number: str | None
) -> dict[str, Any]:
    """The counter as its screens and terminal show it (SPEC §5 `counter`)."""
    clerk = user_of(uow, counter.clerk_username)
    return {
        "counter": counter.number,
        "counter_name": counter.name,
        "location": counter.location,
        "state": counter.state,
        "pause_reason": counter.pause_reason if counter.state == "paused" else None,
        "clerk_name": clerk.name if clerk else None,
        "clerk_no": clerk.clerk_no if clerk else None,
        "current": current_number,
    }


def counter_changed(
    uow: UnitOfWork, counter: Counter, current_number: str | None
) -> CounterChanged:
    return CounterChanged(
        uow.site.code, counter.number, counter_payload(uow, counter, current_number)
    )


# -- the call path's read model: what a counter may call, and what a call tells ------------
CALL_CANDIDATES = 8


def call_candidates(
    uow: UnitOfWork, counter: Counter, *, whole_lines: bool = False, tried: set[int] | None = None
) -> list[WaitingStep]:
    """The waiting steps a counter chooses its next call from: the head of each of its lines
    is enough; `whole_lines` (all of each line but the steps `tried`) only when every one of
    those is being taken by another counter at this very moment."""
    state = HallState(uow)
    if not whole_lines:
        heads = state.line_heads(list(counter.queues), CALL_CANDIDATES, counter.number)
        return [step for queue in counter.queues for step in heads[queue]]
    tried = tried or set()
    return [
        step
        for queue in counter.queues
        for step in state.line(queue)
        if step.step_id not in tried and step.reserved_counter in (None, counter.number)
    ]


class CallViews(NamedTuple):
    """What a call (or a recall) tells, each part built once: the screens' announcement, the
    counter as it now shows (None for a recall: the counter did not change), the ticket's
    change, and its staff view (the use case's answer)."""

    called: TicketCalled
    counter: CounterChanged | None
    ticket: TicketChanged
    view: dict[str, Any]


def call_views(
    uow: UnitOfWork,
    counter: Counter,
    ticket: Ticket,
    step: Step,
    *,
    recall: bool,
    steps: list[Step] | None = None,
) -> CallViews:
    """The call of `ticket` (at `step`) to `counter`, as every one who hears of it sees it
    (`steps`: all the visit's, when the caller has them)."""
    site = uow.site.code
    called = TicketCalled(site, announcement(uow, counter, ticket, step, recall=recall, at=uow.now))
    changed = None if recall else counter_changed(uow, counter, ticket.number)
    view = ticket_view(uow, ticket, staff=True, steps=steps)
    return CallViews(
        called, changed, TicketChanged(site, ticket.id, view, counter.number, True), view
    )


def current_numbers(uow: UnitOfWork, state: HallState | None = None) -> dict[str, str]:
    """The numbers in hand at the counters, by ticket id, in one query."""
    counters = (state or HallState(uow)).counters
    ids = [c.current_ticket_id for c in counters if c.current_ticket_id]
    if not ids:
        return {}
    rows = uow.session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(ids))).all()
    return {ticket_id: number for ticket_id, number in rows}


def counter_views(uow: UnitOfWork, state: HallState) -> list[dict[str, Any]]:
    """Counters for a screen that (re)connects, with the rating window if one is open."""
    numbers = current_numbers(uow, state)
    views = []
    for counter in state.counters:
        view = counter_payload(uow, counter, numbers.get(counter.current_ticket_id or ""))
        open_until = counter.evaluation_until if counter.evaluation_step_id else None
        view["evaluation_until"] = (
            local_iso(uow.site, open_until) if open_until and open_until > uow.now else None
        )
        views.append(view)
    return views


def display_snapshot(uow: UnitOfWork) -> dict[str, Any]:
    """SPEC §4/§5: {seq, calls, recent, queues} (+ counters for the counter-top screens)."""
    state = HallState(uow)
    seq = site_seq(uow)
    calls = []
    for counter in state.counters:
        if not counter.current_ticket_id:
            continue
        ticket = uow.session.get(Ticket, counter.current_ticket_id)
        if ticket is None or ticket.state not in ("called", "serving"):
            continue
        step = current_step(uow, ticket)
        assert step.called_at is not None
        called = announcement(uow, counter, ticket, step, recall=False, at=step.called_at)
        calls.append(dict(called, state=ticket.state))
    recent_events = uow.session.scalars(
        select(Event)
        .where(Event.site_code == uow.site.code, Event.kind.in_(("call", "recall")))
        .order_by(Event.seq.desc())
        .limit(10)
    )
    recent = [dict(event.detail.get("display", {}), seq=event.seq) for event in recent_events]
    return {
        "seq": seq,
        "site": uow.site.code,
        "site_name": uow.site.name,
        "notice": uow.site.notice,
        "calls": calls,
        "recent": recent,
        "queues": state.queue_summaries(),
        "counters": counter_views(uow, state),
        "hours": hours_today(uow),
    }


def hours_today(uow: UnitOfWork) -> dict[str, Any]:
    """For the hall screen: today's hours (`[["08:30", "12:00"], …]`), whether the kiosk
    issues tickets now and, when it does not, the next opening. Read only: a day the
    calendar does not know is read by the weekly hours (the alert job tells managers)."""
    calendar = uow.site.hours.calendar(uow.site.calendar)
    now = uow.now.astimezone(uow.site.zone)
    is_open = calendar.is_open(now, assume=True)
    opening = None if is_open else calendar.next_opening(now, assume=True)
    return {
        "today": [interval.as_pair() for interval in calendar.hours_on(now.date(), assume=True)],
        "open": is_open,
        "next_opening": opening.isoformat(timespec="minutes") if opening else None,
        "next_opening_text": opening_words(opening, now.date()) if opening else None,
    }
