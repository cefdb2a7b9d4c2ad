"""The printed estimates from outside, short (issue 17): a real `python run.py` on a hall
clock 300× as fast, two clerk bots, ten tickets at once. The figures are the bench's
(`python -m bench --only outside-estimates`, docs/estimates.md); this holds the machinery
and a generous bound."""

from __future__ import annotations

import threading

from bench.outside_estimates import DayRun, OutsideDay, burst, error_pct, run_day


def test_printed_estimates_against_real_waits_in_scaled_time() -> None:
    day = OutsideDay("10 at once, no history", tuple(burst(0, 10, 300.0)))
    run = run_day(DayRun(day, scale=300, seed=1), threading.Lock())
    assert sorted(run.waits) == [f"A{number:03d}" for number in range(1, 11)]
    printed = [run.waits[f"A{number:03d}"][0] for number in range(1, 11)]
    real = [run.waits[f"A{number:03d}"][1] for number in range(1, 11)]
    assert printed[:2] == [0, 0]  # two idle counters: called at once
    assert printed[2:] == sorted(printed[2:])  # each later ticket is told a longer wait
    assert printed[-1] > 4 * 300 * 0.5  # eight tickets ahead over two counters
    assert real[-1] > 600  # the bots took their time, on the server's clock
    assert error_pct(list(run.waits.values())) < 60  # a liveness bound; the bench measures
