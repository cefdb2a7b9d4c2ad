"""`python -m bench` exits 1 only for a part that failed a check or raised, never for a
figure whose name says "error" (the estimates' "error at issue" rows made every whole
run exit 1)."""

from __future__ import annotations

from bench.__main__ import broken_parts
from bench.deploy import Setup

SETUP = Setup("sqlite", 1, "gevent")
FIGURES = {
    "estimates: demo hall ×3 days: error at issue": "17.3 %",
    "outside estimates ×60: 20 at once: error at issue": "mean 12.6 %",
    "issue 16 clients: tickets/s (trivial/s, ratio)": "405 (2162, 0.19)",
}


def test_figures_named_error_are_not_failures() -> None:
    assert broken_parts([(SETUP, FIGURES)]) == []


def test_a_failed_check_or_a_raised_part_is() -> None:
    broken = {**FIGURES, "issue: FAILED": "A001 issued twice", "screen: error": "OSError: x"}
    assert broken_parts([(SETUP, broken)]) == ["issue: FAILED", "screen: error"]
