"""`python -m bench` exits 1 only for a part that failed a check or raised, never for a
figure whose name says "error" (the estimates' "error at issue" rows made every whole
run exit 1), and its shares of the cores are each process's own."""

from __future__ import annotations

from bench.__main__ import broken_parts
from bench.deploy import CPU_PARTS, Setup, cores_by_part

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


def test_each_part_of_the_machine_gets_its_processes_share_of_the_cores() -> None:
    """Two readings 2 s apart: a process there at both counts its difference, one started
    between them all its time, one that ended nothing; pid 0 is the machine's busy time."""
    before = {0: ("machine", 100.0), 11: ("servers", 5.0), 12: ("PostgreSQL", 1.0)}
    after = {
        0: ("machine", 103.0),
        11: ("servers", 6.5),
        13: ("PostgreSQL", 0.4),  # a connection opened meanwhile
        14: ("the bench's clients", 0.2),
    }
    cores = cores_by_part(before, after, 2.0)
    assert set(cores) == {*CPU_PARTS, "machine"}
    assert cores["servers"] == 0.75
    assert cores["PostgreSQL"] == 0.2
    assert cores["the bench's clients"] == 0.1
    assert cores["machine"] == 1.5
    assert cores["Redis"] == 0.0
