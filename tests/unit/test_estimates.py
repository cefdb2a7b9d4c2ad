"""The wait estimator (domain/estimates.py): no database, the clock and the randomness given."""

from __future__ import annotations

import heapq
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.dispatch import CounterPlan, PriorityClass, WaitingStep, choose_next
from queue_server.domain.estimates import (
    QUANTILE_POINTS,
    WALK_PRIOR_S,
    CounterNow,
    FinishedStep,
    InHand,
    Quantiles,
    ServiceTimes,
    configured_service_times,
    counter_order,
    estimate_wait,
    estimate_waits,
    joining,
    learn_service_times,
    places_ahead,
    waiting_ahead,
)

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in the hall
NOW = T0 + timedelta(minutes=30)
FIFO_AB = CounterPlan(1, ("A", "B"), "fifo")
ORD, GREEN = PriorityClass.ORDINARY, PriorityClass.GREEN
CONFIGURED = configured_service_times(ZONE, 300)


def step(
    step_id: int,
    queue: str = "A",
    minute: float = 0,
    cls: int = ORD,
    overdue_after: float = 40,
    reserved: int | None = None,
) -> WaitingStep:
    at = T0 + timedelta(minutes=minute)
    return WaitingStep(
        step_id, queue, cls, at, at, at + timedelta(minutes=overdue_after), None, reserved
    )


def constant(seconds: float) -> ServiceTimes:
    table = Quantiles((seconds,) * QUANTILE_POINTS)
    return ServiceTimes(ZONE, {}, {}, table)


def counter(number: int, queues: tuple[str, ...] = ("A", "B"), **kwargs: object) -> CounterNow:
    strategy = str(kwargs.pop("strategy", "fifo"))
    return CounterNow(CounterPlan(number, queues, strategy), **kwargs)  # type: ignore[arg-type]


def services_of(waiting: list[WaitingStep], code: str = "employment") -> dict[int, list[str]]:
    return {item.step_id: [code] for item in waiting}


def test_no_history_uses_the_configured_durations() -> None:
    waiting = [step(1, minute=1), step(2, minute=2), step(3, minute=3), step(4, minute=4)]
    result = estimate_wait(
        4, [counter(1)], waiting, services_of(waiting), CONFIGURED, NOW, random.Random(1)
    )
    assert result.line_open
    assert result.waiting_ahead == 3
    # Three steps ahead of a typical 300 s each (log-normal: a mean a little above).
    assert result.est_wait_s is not None
    assert 800 <= result.est_wait_s <= 1150
    assert result.range_s is not None
    assert result.range_s[0] < result.est_wait_s < result.range_s[1]
    per_service = configured_service_times(ZONE, 300, {"card_services": 100})
    quick = estimate_wait(
        4,
        [counter(1)],
        waiting,
        services_of(waiting, "card_services"),
        per_service,
        NOW,
        random.Random(1),
    )
    assert quick.est_wait_s is not None
    assert quick.est_wait_s < result.est_wait_s / 2


def test_a_ticket_in_hand_counts_its_remaining_time() -> None:
    waiting = [step(1)]
    idle = estimate_wait(1, [counter(1)], waiting, {1: ["x"]}, constant(600), NOW, random.Random())
    assert idle.est_wait_s == 0
    assert idle.waiting_ahead == 0
    just_called = counter(1, in_hand=InHand(("x",), NOW))
    busy = estimate_wait(1, [just_called], waiting, {1: ["x"]}, CONFIGURED, NOW, random.Random(2))
    assert busy.waiting_ahead == 0
    assert busy.est_wait_s is not None
    assert 200 <= busy.est_wait_s <= 400
    long_ago = counter(1, in_hand=InHand(("x",), NOW - timedelta(minutes=8)))
    nearly = estimate_wait(1, [long_ago], waiting, {1: ["x"]}, CONFIGURED, NOW, random.Random(2))
    assert nearly.est_wait_s is not None
    assert nearly.est_wait_s < busy.est_wait_s


def test_the_other_line_the_same_counters_serve_counts() -> None:
    """ISSUE12 item 9: counters 1–2 fifo [A, B], five B tickets waiting, a new A ticket."""
    waiting = [step(index, "B", minute=index) for index in range(1, 6)] + [step(6, "A", 10)]
    counters = [counter(1), counter(2)]
    result = estimate_wait(
        6, counters, waiting, services_of(waiting), constant(300), NOW, random.Random()
    )
    assert result.waiting_ahead == 5
    assert result.est_wait_s == 600  # B1, B2 at 0; B3, B4 at 300; B5 and the A ticket at 600


def test_no_open_or_paused_counter_closes_the_line() -> None:
    waiting = [step(1, "E")]
    closed = estimate_wait(1, [counter(1)], waiting, {1: ["x"]}, CONFIGURED, NOW, random.Random())
    assert not closed.line_open
    assert closed.est_wait_s is None
    assert closed.waiting_ahead is None
    paused = [counter(10, ("E",), state="paused")]
    all_paused = estimate_wait(1, paused, waiting, {1: ["x"]}, CONFIGURED, NOW, random.Random())
    assert all_paused.line_open
    assert all_paused.est_wait_s is None


def test_waiting_ahead_is_the_fewest_any_open_counter_would_call_first() -> None:
    waiting = [step(1, "B", 1), step(2, "B", 2), step(3, "A", 3), step(4, "B", 4)]
    ordered = counter(7, ("B", "A"), strategy="ordered")
    assert waiting_ahead(3, [ordered], waiting, NOW) == 3
    assert waiting_ahead(3, [ordered, counter(1)], waiting, NOW) == 2
    assert waiting_ahead(3, [counter(1, state="paused"), ordered], waiting, NOW) == 3


def test_places_ahead_of_a_joiner_count_as_t_does() -> None:
    """The board's count of who is ahead of each line's joiner (services/estimates.py):
    T's `waiting_ahead` rule, the fewest any open plan calls first; none open: the line."""
    waiting = [step(1, "B", 1), step(2, "B", 2), step(3, "A", 3), step(4, "A", 4, cls=GREEN)]
    ordinary_a = joining("A", NOW, timedelta(minutes=40))
    green_a = joining("A", NOW, timedelta(minutes=40), green=True)
    fifo = CounterPlan(0, ("A", "B"), "fifo")
    ordered = CounterPlan(0, ("B", "A"), "ordered")
    assert places_ahead(ordinary_a, waiting, [fifo], NOW) == 4
    assert places_ahead(ordinary_a, waiting, [ordered], NOW) == 4
    assert places_ahead(green_a, waiting, [fifo], NOW) == 1
    assert places_ahead(green_a, waiting, [ordered], NOW) == 3
    assert places_ahead(green_a, waiting, [fifo, ordered], NOW) == 1
    assert places_ahead(ordinary_a, waiting, [], NOW) == 2  # the line's own order
    assert places_ahead(green_a, waiting, [], NOW) == 1


@pytest.mark.parametrize("seed", range(30))
def test_counter_order_is_choose_next_repeated(seed: int) -> None:
    rng = random.Random(seed)
    waiting = [
        step(
            index,
            rng.choice("ABC"),
            rng.uniform(0, 60),
            rng.choice([ORD, ORD, GREEN]),
            rng.choice([20, 40]),
            rng.choice([None, None, 1, 2]),
        )
        for index in range(1, 25)
    ]
    for plan in (CounterPlan(1, ("A", "B"), "fifo"), CounterPlan(2, ("B", "A"), "ordered")):
        left = list(waiting)
        expected = []
        while (chosen := choose_next(left, plan, NOW)) is not None:
            expected.append(chosen.step_id)
            left.remove(chosen)
        assert [item.step_id for item in counter_order(waiting, plan, NOW)] == expected


def replay_by_choose_next(
    counters: list[CounterPlan], waiting: list[WaitingStep], seconds: float
) -> dict[int, float]:
    """The reference: every free counter calls choose_next over all that still wait."""
    left = list(waiting)
    called: dict[int, float] = {}
    free = [(0.0, plan.number) for plan in counters]
    plans = {plan.number: plan for plan in counters}
    while free:
        at, number = heapq.heappop(free)
        chosen = choose_next(left, plans[number], NOW + timedelta(seconds=at))
        if chosen is None:
            continue
        left.remove(chosen)
        called[chosen.step_id] = at
        heapq.heappush(free, (at + seconds, number))
    return called


@pytest.mark.parametrize("seed", range(20))
def test_the_forward_run_calls_in_choose_next_order(seed: int) -> None:
    """Steps that turn overdue on the way, lines in another order, steps kept for a counter:
    with fixed service times, the estimator's call times are the reference's."""
    rng = random.Random(seed)
    waiting = [
        step(
            index,
            rng.choice("AB"),
            rng.uniform(0, 30),
            rng.choice([ORD, ORD, GREEN]),
            rng.choice([32, 40, 60]),
            rng.choice([None, None, None, 2]),
        )
        for index in range(1, 30)
    ]
    plans = [CounterPlan(1, ("A", "B"), "fifo"), CounterPlan(2, ("B", "A"), "ordered")]
    expected = replay_by_choose_next(plans, waiting, 170)
    counters = [CounterNow(plan, "open") for plan in plans]
    ids = [item.step_id for item in waiting]
    estimates = estimate_waits(
        ids, counters, waiting, services_of(waiting), constant(170), NOW, random.Random(), draws=1
    )
    assert {key: value.est_wait_s for key, value in estimates.items()} == {
        key: round(value) for key, value in expected.items()
    }


def finished(service: str, hour: int, seconds: float, day: int = 0) -> FinishedStep:
    called = datetime(2026, 10, 1, hour, 5, tzinfo=ZONE) + timedelta(days=day)
    return FinishedStep((service,), called, None, called + timedelta(seconds=seconds))


def test_learning_per_business_and_hour() -> None:
    history = [finished("card", 9, 100 + index % 7, index) for index in range(20)]
    history += [finished("card", 14, 200 + index % 7, index) for index in range(20)]
    history += [finished("approval", 10, 600 + index % 7, index) for index in range(20)]
    times = learn_service_times(history, ZONE, 300)
    assert times.samples == 60
    assert 95 < times.table("card", 9).at(0.5) < 120
    assert 190 < times.table("card", 14).at(0.5) < 220
    # An hour without steps: the business's, both hours together.
    assert times.table("card", 11) is times.by_service["card"]
    assert 140 < times.table("card", 11).mean < 200
    assert 550 < times.table("approval", 10).at(0.5) < 620
    assert times.table("unknown", 10) is times.fallback
    assert 100 <= times.fallback.at(0.1) < times.fallback.at(0.9) <= 606  # the hall's steps
    empty = learn_service_times([], ZONE, 300, {"card": 120})
    # No history: the configured times, and the walk from the seats they leave out.
    assert empty.fallback.at(0.5) == pytest.approx(300 + WALK_PRIOR_S)
    assert empty.table("card", 9).at(0.5) == pytest.approx(120 + WALK_PRIOR_S)
    bare = learn_service_times([], ZONE, 300, {"card": 120}, walk_s=0)
    assert bare.table("card", 9).at(0.5) == pytest.approx(120)


def test_todays_pace_follows_the_last_hour_only() -> None:
    history = [finished("card", 9, 100, day) for day in range(30)]
    today = datetime(2026, 12, 20, 9, 0, tzinfo=ZONE)
    slow = [
        FinishedStep(
            ("card",),
            today + timedelta(minutes=3 * index),
            None,
            today + timedelta(minutes=3 * index, seconds=200),
        )
        for index in range(20)
    ]
    after = today + timedelta(hours=1)
    paced = learn_service_times([*history, *slow], ZONE, 300, now=after)
    assert 1.15 < paced.pace < 1.8  # 200 s where about 150 s were expected
    later = learn_service_times([*history, *slow], ZONE, 300, now=after + timedelta(hours=3))
    assert later.pace == 1.0


def test_quantiles_draw_remaining_beyond_elapsed() -> None:
    table = Quantiles.log_normal(300)
    rng = random.Random(3)
    remaining = [table.draw_remaining(400, rng) for _ in range(500)]
    assert all(value >= 0 for value in remaining)
    assert 0.45 < table.share_below(300) < 0.55


def test_a_model_travels_as_json() -> None:
    history = [finished("card", 9, 100 + index, index) for index in range(20)]
    times = learn_service_times(history, ZONE, 300, now=datetime(2026, 10, 5, 9, 30, tzinfo=ZONE))
    again = ServiceTimes.from_dict(json.loads(json.dumps(times.to_dict())))
    assert again == times


def test_the_ticket_about_to_join_gets_the_estimate_to_print() -> None:
    waiting = [step(1, "B", 1), step(2, "A", 2)]
    joining_a = joining("A", NOW, timedelta(minutes=40))
    counters = [counter(1, in_hand=InHand(("x",), NOW))]
    result = estimate_wait(
        -1,
        counters,
        [*waiting, joining_a],
        {1: ["x"], 2: ["x"]},
        constant(300),
        NOW,
        random.Random(),
    )
    assert result.waiting_ahead == 2
    assert result.est_wait_s == 900


def test_phantom_joiners_change_nobody_and_get_their_own_wait() -> None:
    """The board's one run (services/estimates.py): the tickets about to join each line, as
    phantoms (they take a counter no time), leave every real step's figures as they are and
    each gets what a run of its own gives — alike within the draws' noise (the random
    stream is consumed differently, so not to the second)."""
    waiting = [step(index, "AB"[index % 2], minute=index) for index in range(1, 13)]
    counters = [
        counter(1, in_hand=InHand(("employment",), NOW - timedelta(minutes=2))),
        counter(2),
        counter(3, ("B", "A"), strategy="ordered"),
    ]
    services = services_of(waiting)
    ids = [item.step_id for item in waiting]
    keys = [(queue, green) for queue in ("A", "B") for green in (False, True)]
    joiners = {key: joining(key[0], NOW, timedelta(minutes=40), key[1]) for key in keys}
    phantoms = {10**9 + index: key for index, key in enumerate(keys)}
    draws = 2000

    def close(first: int | None, second: int | None) -> bool:
        assert first is not None
        assert second is not None
        return abs(first - second) <= 0.05 * second + 15

    with_phantoms = estimate_waits(
        [*ids, *phantoms],
        counters,
        [*waiting, *(replace(joiners[key], step_id=number) for number, key in phantoms.items())],
        services,
        CONFIGURED,
        NOW,
        random.Random(7),
        draws=draws,
        phantoms=phantoms,
    )
    alone = estimate_waits(
        ids, counters, waiting, services, CONFIGURED, NOW, random.Random(8), draws=draws
    )
    for step_id in ids:
        assert close(with_phantoms[step_id].est_wait_s, alone[step_id].est_wait_s)
    for number, key in phantoms.items():
        own = estimate_waits(
            [-1],
            counters,
            [*waiting, joiners[key]],
            services,
            CONFIGURED,
            NOW,
            random.Random(9),
            draws=draws,
        )[-1]
        assert close(with_phantoms[number].est_wait_s, own.est_wait_s)
    green, ordinary = with_phantoms[10**9 + 1], with_phantoms[10**9]
    assert green.est_wait_s is not None
    assert ordinary.est_wait_s is not None
    assert green.est_wait_s < ordinary.est_wait_s  # green goes first
