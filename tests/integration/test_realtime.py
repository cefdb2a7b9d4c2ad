"""Socket.IO namespaces through Flask-SocketIO's test client: auth on connect, snapshot
first, seq on every payload, emitted after commit, nothing personal on public screens."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from tests.conftest import Staff

Issue = Callable[..., dict[str, Any]]


def connect(app: Flask, namespace: str, **kwargs: Any) -> Any:
    socketio = app.extensions["yihao"].socketio
    return socketio.test_client(app, namespace=namespace, **kwargs)


def received(client: Any, namespace: str) -> list[tuple[str, dict[str, Any]]]:
    return [(message["name"], message["args"][0]) for message in client.get_received(namespace)]


def flush(app: Flask) -> None:
    """Run the coalesced updates now instead of waiting for the background loop."""
    publisher = app.extensions["yihao"].publisher
    publisher.flush()
    publisher.push_positions()


def test_display_gets_snapshot_then_calls(
    app: Flask, clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    screen = connect(app, "/display", query_string="site=main")
    assert screen.is_connected("/display")
    first = received(screen, "/display")
    assert first[0][0] == "snapshot"
    assert set(first[0][1]) >= {"seq", "calls", "recent", "queues"}
    # born 1990: the green channel comes unasked only from 70 (SPEC v2)
    visitor = make_ticket(visitor_id="110105199003070017", phone="13800138000")
    clerk = clerk_at(5)
    clerk.counter(5, "call-next")
    clerk.counter(5, "recall")
    messages = received(screen, "/display")
    calls = [payload for name, payload in messages if name == "call"]
    assert len(calls) == 2
    call = calls[0]
    assert call["text"] == "请A001号到5号窗口办理"
    assert call["speech"] == "请 A 零 零 一 号 到 5 号窗口办理"
    assert (call["number"], call["counter"], call["recall"], call["reason"]) == (
        "A001",
        5,
        False,
        None,
    )
    assert calls[1]["recall"] is True
    assert calls[1]["seq"] > call["seq"] > first[0][1]["seq"]
    counter_updates = [payload for name, payload in messages if name == "counter"]
    assert counter_updates[-1]["current"] == "A001"
    assert counter_updates[-1]["clerk_name"] == "陈静"
    flush(app)
    queues = [payload for name, payload in received(screen, "/display") if name == "queues"]
    assert len(queues) == 1  # coalesced
    assert "seq" in queues[0]
    everything = json.dumps([messages, queues], ensure_ascii=False)
    for secret in (visitor["id"], "110105199003070017", "13800138000", "1101**", "138****"):
        assert secret not in everything


def test_display_sees_location_and_reconnect_snapshot(
    app: Flask, clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    make_ticket("hiring_filing", party="enterprise", headcount=12)
    clerk_at(10).counter(10, "call-next")
    screen = connect(app, "/display")  # no site: the default one
    name, snapshot = received(screen, "/display")[0]
    assert name == "snapshot"
    assert snapshot["calls"][0]["text"] == "请E001号到三楼10号窗口办理"
    assert snapshot["recent"][0]["number"] == "E001"
    assert snapshot["seq"] >= snapshot["recent"][0]["seq"]


def test_unknown_site_is_refused(app: Flask) -> None:
    screen = connect(app, "/display", query_string="site=atlantis")
    assert not screen.is_connected("/display")


def test_failed_action_publishes_nothing(app: Flask, clerk_at: Callable[[int], Staff]) -> None:
    screen = connect(app, "/display")
    received(screen, "/display")
    clerk = clerk_at(1)
    received(screen, "/display")
    assert clerk.counter(1, "start").status_code == 409
    assert received(screen, "/display") == []


def test_evaluate_opens_after_finish_and_closes_on_rating(
    app: Flask, clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    make_ticket()
    clerk = clerk_at(2)
    screen = connect(app, "/display")
    clerk.counter(2, "call-next")
    clerk.counter(2, "finish")
    app.test_client().post("/api/v1/counters/2/rating", json={"rating": 5})
    evaluations = [payload for name, payload in received(screen, "/display") if name == "evaluate"]
    assert [(item["counter"], item["open"]) for item in evaluations] == [(2, True), (2, False)]


def test_ticket_namespace_follows_one_ticket(
    app: Flask, clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    mine = make_ticket()
    other = make_ticket()
    phone = connect(app, "/ticket", auth={"ticket": other["id"]})
    first = received(phone, "/ticket")
    assert [name for name, _ in first] == ["snapshot", "ticket"]
    assert first[1][1]["state"] == "waiting"
    assert first[1][1]["waiting_ahead"] == 1
    assert "seq" in first[1][1]
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")  # calls `mine`: the other's position changes
    assert received(phone, "/ticket") == []  # not its state: no immediate message
    flush(app)
    moved = received(phone, "/ticket")
    assert [(name, payload["waiting_ahead"]) for name, payload in moved] == [("ticket", 0)]
    flush(app)
    assert received(phone, "/ticket") == []  # nothing new, nothing sent
    # A quiet site's phones cost no transaction: the tick's one read of every seq tells.
    statements: list[str] = []
    engine = app.extensions["yihao"].engine

    def listener(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", listener)
    publisher = app.extensions["yihao"].publisher
    publisher.flush()
    ticked = len(statements)
    publisher.push_positions()
    event.remove(engine, "before_cursor_execute", listener)
    assert ticked > 0
    assert len(statements) == ticked
    clerk.counter(1, "finish")
    clerk.counter(1, "call-next")
    called = [payload for name, payload in received(phone, "/ticket") if name == "ticket"]
    assert called[-1]["state"] == "called"
    assert called[-1]["counter"] == 1
    assert mine["id"] not in json.dumps(called)


def test_many_phones_get_the_positions_the_api_gives(
    app: Flask, clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    """Enough phones that their positions come from the lines read once
    (views.ROWS_PER_COUNT): each must equal what the API counts for that ticket."""
    phones_of_a_busy_hall = 20

    tickets = [make_ticket() for _ in range(phones_of_a_busy_hall + 5)]
    tickets.append(make_ticket(priority="green"))  # called before the ordinary ones
    phones = [connect(app, "/ticket", auth={"ticket": ticket["id"]}) for ticket in tickets]
    for phone in phones:
        received(phone, "/ticket")
    clerk = clerk_at(1)
    clerk.counter(1, "call-next")  # the green ticket: everyone else moves up one
    clerk.counter(1, "finish")
    clerk.counter(1, "call-next")  # the first ordinary ticket
    flush(app)
    client = app.test_client()
    checked = 0
    for ticket, phone in zip(tickets, phones, strict=True):
        pushed = [payload for name, payload in received(phone, "/ticket") if name == "ticket"]
        expected = client.get(f"/api/v1/tickets/{ticket['id']}").get_json()["ticket"]
        if expected["state"] != "waiting":
            continue
        assert pushed, f"{ticket['number']} got its new position"
        assert pushed[-1]["waiting_ahead"] == expected["waiting_ahead"]
        assert pushed[-1]["est_wait_s"] == expected["est_wait_s"]
        checked += 1
    assert checked == phones_of_a_busy_hall + 4


@pytest.mark.parametrize("auth", [None, {}, {"ticket": "no-such-ticket"}, {"ticket": 5}])
def test_ticket_namespace_needs_a_real_ticket(app: Flask, auth: Any) -> None:
    assert not connect(app, "/ticket", auth=auth).is_connected("/ticket")


def test_counter_namespace(
    app: Flask, clerk_at: Callable[[int], Staff], make_ticket: Issue, login: Callable[[str], Staff]
) -> None:
    clerk = clerk_at(1)
    make_ticket()
    terminal = connect(app, "/counter", query_string="counter=1", auth={"token": clerk.token})
    name, snapshot = received(terminal, "/counter")[0]
    assert name == "snapshot"
    assert snapshot["counter"]["state"] == "open"
    assert snapshot["lines"]["A"][0]["number"] == "A001"
    clerk.counter(1, "call-next")
    messages = received(terminal, "/counter")
    tickets = [payload for name, payload in messages if name == "ticket"]
    assert tickets[-1]["ticket"]["number"] == "A001"
    assert tickets[-1]["ticket"]["steps"][0]["status"] == "called"
    assert all("seq" in payload for _, payload in messages)
    assert not connect(
        app, "/counter", query_string="counter=1", auth={"token": "bad"}
    ).is_connected("/counter")
    assert not connect(
        app, "/counter", query_string="counter=99", auth={"token": clerk.token}
    ).is_connected("/counter")
    assert not connect(app, "/counter", query_string="counter=1").is_connected("/counter")


def test_manager_namespace(app: Flask, login: Callable[[str], Staff], make_ticket: Issue) -> None:
    manager = login("manager")
    board = connect(app, "/manager", auth={"token": manager.token})
    names = [name for name, _ in received(board, "/manager")]
    assert names == ["snapshot", "stats"]
    make_ticket()
    flush(app)
    stats = [payload for name, payload in received(board, "/manager") if name == "stats"]
    assert stats[-1]["queues"][0]["waiting"] == 1
    clerk = login("clerk01")
    assert not connect(app, "/manager", auth={"token": clerk.token}).is_connected("/manager")


# -- snapshot first, nothing lost: a commit lands while the snapshot is being read --------
def commit_while_reading(
    app: Flask, monkeypatch: pytest.MonkeyPatch, use_case: Any, commit: Callable[[], None]
) -> None:
    """`commit` runs (a real call-next, its messages broadcast, then the coalesced updates)
    right after the snapshot's read and before the namespace sends it: the moment a yield
    of the read hands to another greenlet under gevent."""
    yihao = app.extensions["yihao"]
    read = yihao.read

    def read_then_commit(site: Any, case: Any, *args: Any, **kwargs: Any) -> Any:
        result = read(site, case, *args, **kwargs)
        if case is use_case:
            commit()
            flush(app)
        return result

    monkeypatch.setattr(yihao, "read", read_then_commit)


@pytest.mark.parametrize(
    ("namespace", "news"), [("/display", "call"), ("/counter", "counter"), ("/ticket", "ticket")]
)
def test_what_is_broadcast_while_a_client_connects_follows_its_snapshot(
    app: Flask,
    clerk_at: Callable[[int], Staff],
    make_ticket: Issue,
    monkeypatch: pytest.MonkeyPatch,
    namespace: str,
    news: str,
) -> None:
    from queue_server.realtime.namespaces import _public_view
    from queue_server.services.counters import counter_snapshot
    from queue_server.services.views import display_snapshot

    ticket = make_ticket()
    clerk = clerk_at(5)
    use_case, options = {
        "/display": (display_snapshot, {"query_string": "site=main"}),
        "/counter": (
            counter_snapshot,
            {"query_string": "counter=5", "auth": {"token": clerk.token}},
        ),
        "/ticket": (_public_view, {"auth": {"ticket": ticket["id"]}}),
    }[namespace]
    commit_while_reading(app, monkeypatch, use_case, lambda: clerk.counter(5, "call-next"))
    client = connect(app, namespace, **options)
    messages = received(client, namespace)
    names = [name for name, _ in messages]
    assert names[0] == "snapshot", names
    snapshot_seq = messages[0][1]["seq"]
    newer = [payload for name, payload in messages[1:] if name == news]
    assert any(payload["seq"] > snapshot_seq for payload in newer), (
        f"the {news} of the commit made during the read was lost: {names}"
    )


def test_a_site_is_pushed_once_per_change_even_when_its_board_is_already_current(
    app: Flask, clerk_at: Callable[[int], Staff], make_ticket: Issue
) -> None:
    """A board may already reflect the change the tick is about to push (made by a read
    after the commit, or by the tick itself while the commit landed): the changed site is
    pushed once, and the next ticks, with nothing new, push nothing (a site kept due while
    its board stayed fresh was pushed every tick for up to `BOARD_MAX_AGE_S`)."""
    clerk_at(5)
    screen = connect(app, "/display", query_string="site=main")
    received(screen, "/display")
    ticket = make_ticket()
    looked_up = app.test_client().get(f"/api/v1/tickets/{ticket['id']}").json["ticket"]
    assert looked_up["est_wait_s"] is not None  # the board of the seq after the issue
    flush(app)
    assert [name for name, _ in received(screen, "/display")].count("queues") == 1
    flush(app)
    flush(app)
    assert [name for name, _ in received(screen, "/display")].count("queues") == 0


def test_a_push_reads_only_what_this_processs_clients_of_the_site_look_at(
    app: Flask, login: Callable[[str], Staff], make_ticket: Issue
) -> None:
    """A change with nobody here watching the site reads nothing for the coalesced push; a
    screen alone gets the line counts without the managers' figures being computed; a
    manager's board adds them (a city's process holds some screens of most sites and the
    boards of few: computing `stats` for each changed site was most of its tick)."""
    from sqlalchemy import event

    engine = app.extensions["yihao"].engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def pushed() -> int:
        statements.clear()
        flush(app)
        return len(statements)

    make_ticket()
    alone = pushed()  # the tick's seq read, the estimates' board: no payload
    screen = connect(app, "/display", query_string="site=main")
    received(screen, "/display")
    make_ticket()
    with_screen = pushed()
    assert [name for name, _ in received(screen, "/display")].count("queues") == 1
    manager = login("manager")
    board = connect(app, "/manager", auth={"token": manager.token})
    received(board, "/manager")
    make_ticket()
    with_board = pushed()
    assert [name for name, _ in received(board, "/manager")].count("stats") == 1
    assert [name for name, _ in received(screen, "/display")].count("queues") == 1
    assert alone < with_screen < with_board, (alone, with_screen, with_board)


def test_the_loop_rests_as_long_as_its_last_round_worked(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background loop's rounds (boards, line counts, places) take at most half of the
    process: after a round that took longer than the interval it sleeps as long as it
    worked, up to MAX_REST_S (a round swollen by a burst does not stop the updates for
    long), and the phones' places come round by the clock, not by a count of rounds."""
    from queue_server.realtime.publisher import MAX_REST_S, REST_PER_WORK

    publisher = app.extensions["yihao"].publisher
    interval, worked = publisher.publish_interval_s, [0.01, 0.9, 30.0, 0.01, 0.01]
    now = [100.0]
    sleeps: list[float] = []
    places: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds
        if len(sleeps) > len(worked):
            publisher._running = False

    def round_of_work() -> None:
        now[0] += worked[len(sleeps) - 1]

    monkeypatch.setattr(publisher, "_clock", lambda: now[0])
    monkeypatch.setattr(publisher.socketio, "sleep", sleep)
    monkeypatch.setattr(publisher, "flush", round_of_work)
    monkeypatch.setattr(publisher, "push_positions", lambda: places.append(now[0]))
    publisher._running = True
    publisher._loop()
    assert sleeps == pytest.approx(
        [interval, interval, 0.9 * REST_PER_WORK, MAX_REST_S, interval, interval]
    )
    # Due once position_interval_s has passed since the last, whatever the rounds between.
    gaps = [later - earlier for earlier, later in zip(places, places[1:], strict=False)]
    assert len(places) >= 2
    assert all(gap >= publisher.position_interval_s for gap in gaps)
