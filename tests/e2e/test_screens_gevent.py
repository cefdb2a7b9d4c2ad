"""The screens' own tests again, against `run.py --async-mode gevent`: Chromium offers
permessage-deflate, so its WebSocket takes the library's compressing path while the
broadcasts around it go direct (queue_server/realtime/fanout.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_screens import (
    test_a_call_made_while_a_screen_was_offline_is_shown_and_announced_once,
    test_a_call_shows_on_the_hall_and_counter_screens_within_two_seconds,
    test_a_rating_pressed_on_the_counter_screen_is_stored_once,
)
from tests.live_server import LiveServer

pytestmark = pytest.mark.e2e

__all__ = [
    "test_a_call_made_while_a_screen_was_offline_is_shown_and_announced_once",
    "test_a_call_shows_on_the_hall_and_counter_screens_within_two_seconds",
    "test_a_rating_pressed_on_the_counter_screen_is_stored_once",
]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("live-gevent")
    with LiveServer(workdir, "--no-scheduler", "--async-mode", "gevent") as server:
        yield server
