"""The ticket and step states are the domain's (`domain/lifecycle.py`): what spells them
elsewhere must agree. Migration 0001 is history and keeps its own literals."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import get_args

import pytest

from queue_server.domain.lifecycle import (
    UNFINISHED,
    StepOutcome,
    StepStatus,
    TicketState,
    TicketStateName,
)

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "queue_server" / "migrations" / "versions" / "0001_baseline.py"


def _listed(sql: str) -> tuple[str, ...]:
    return tuple(re.findall(r"'([a-z_]+)'", sql))


def _constraint(source: str, name: str) -> str:
    """The SQL text of a check constraint of migration 0001 (its adjacent literals joined)."""
    found = re.search(
        r"sa\.CheckConstraint\(\s*((?:\"[^\"]*\"\s*)+),\s*name=op\.f\(\"" + name + r"\"\)", source
    )
    assert found, name
    return "".join(re.findall(r"\"([^\"]*)\"", found.group(1)))


@pytest.mark.parametrize(
    ("constraint", "states"),
    [
        ("ck_tickets_state", tuple(TicketState)),
        ("ck_steps_status", tuple(StepStatus)),
        ("ck_steps_outcome", tuple(StepOutcome)),
    ],
)
def test_migration_0001_lists_the_domain_states(constraint: str, states: tuple[str, ...]) -> None:
    source = BASELINE.read_text(encoding="utf-8")
    assert _listed(_constraint(source, constraint)) == tuple(state.value for state in states)


def test_migration_0001_unfinished_and_waiting_are_the_domain_s() -> None:
    source = BASELINE.read_text(encoding="utf-8")
    unfinished = re.search(r'^UNFINISHED = "(.*)"$', source, re.MULTILINE)
    waiting = re.search(r'^WAITING = "(.*)"$', source, re.MULTILINE)
    assert unfinished
    assert waiting
    assert set(_listed(unfinished.group(1))) == {state.value for state in UNFINISHED}
    assert _listed(waiting.group(1)) == (StepStatus.WAITING.value,)


def test_the_api_s_state_type_is_the_domain_s() -> None:
    assert get_args(TicketStateName) == tuple(state.value for state in TicketState)


@pytest.mark.parametrize("page", ["ticket_printer.texts", "display.texts"])
def test_state_words_cover_every_state(page: str) -> None:
    """The kiosk's and the screens' strings name every ticket state, and only those."""
    texts = importlib.import_module(page)
    prefix = texts.PREFIX + "state."
    named = {entry[0].removeprefix(prefix) for entry in texts.TEXTS if entry[0].startswith(prefix)}
    assert named == {state.value for state in TicketState}
