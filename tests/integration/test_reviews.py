"""差评整改: bad reviews listed with their follow-up, assigned, noted, closed; due 15 working
days after the rating by the hall calendar; overdue ones stand out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import FakeClock, Staff
from tests.integration import test_reports
from tests.integration.test_reports import ok

known_day = test_reports.known_day  # the known day of the reports test, as a fixture here


def test_bad_reviews_are_listed_with_the_step_counter_and_clerk(
    known_day: dict[str, Any],
    login: Callable[[str], Staff],
) -> None:
    manager = login("manager")
    reviews = ok(manager.get("/api/v1/reviews?rating_max=2"))["reviews"]
    assert len(reviews) == 1  # the 5 is not a bad review
    review = reviews[0]
    assert review["rating"] == 1
    assert review["reasons"] == ["wait"]
    assert review["number"] == known_day["second"]["number"]
    assert (review["counter"], review["clerk"], review["clerk_name"]) == (1, "clerk01", "张敏")
    assert review["rated_at"] == "2026-11-20T09:20:10+08:00"
    assert review["services"] == ["card_services", "social_insurance"]
    # Friday 20 Nov + 15 working days (no holidays in between) = Friday 11 Dec.
    assert review["due"] == "2026-12-11"
    assert (review["state"], review["overdue"], review["working_days_left"]) == ("open", False, 15)
    assert len(ok(manager.get("/api/v1/reviews?rating_max=5"))["reviews"]) == 2
    assert ok(manager.get("/api/v1/reviews?from=2026-11-21"))["reviews"] == []


def test_follow_up_assign_note_close(
    known_day: dict[str, Any],
    login: Callable[[str], Staff],
    clock: FakeClock,
) -> None:
    manager = login("manager")
    review_id = ok(manager.get("/api/v1/reviews"))["reviews"][0]["id"]
    base = f"/api/v1/reviews/{review_id}"

    assigned = ok(manager.post(f"{base}/assign", {"assignee": "clerk01"}))["review"]
    assert (assigned["state"], assigned["assignee"]) == ("assigned", "clerk01")
    bad = manager.post(f"{base}/assign", {"assignee": "nobody"})
    assert (bad.status_code, bad.json["error"]["code"]) == (400, "invalid_field")

    refused = manager.post(f"{base}/close", {})
    assert refused.status_code == 400  # closing needs a note of what was done

    clock.advance(days=3)
    noted = ok(manager.post(f"{base}/note", {"note": "已回访群众，说明高峰期分流安排"}))["review"]
    assert noted["note"] == "已回访群众，说明高峰期分流安排"
    closed = ok(manager.post(f"{base}/close", {}))["review"]
    assert closed["state"] == "closed"
    assert closed["closed_by"] == "manager"
    assert closed["closed_at"] == "2026-11-23T10:05:00+08:00"
    assert manager.post(f"{base}/close", {}).status_code == 409

    assert ok(manager.get("/api/v1/reviews?state=closed"))["reviews"][0]["id"] == review_id
    assert ok(manager.get("/api/v1/reviews?state=open"))["reviews"] == []
    kinds = [event["kind"] for event in ok(manager.get("/api/v1/events"))["events"]]
    assert kinds.count("review") == 3  # assign, note, close: each in the log

    reopened = ok(manager.post(f"{base}/reopen"))["review"]
    assert reopened["state"] == "assigned"


def test_overdue_after_the_fifteenth_working_day(
    known_day: dict[str, Any],
    login: Callable[[str], Staff],
    clock: FakeClock,
) -> None:
    manager = login("manager")
    clock.advance(days=21)  # Friday 11 Dec, the due day itself: not yet overdue
    review = ok(manager.get("/api/v1/reviews"))["reviews"][0]
    assert (review["overdue"], review["working_days_left"]) == (False, 0)
    clock.advance(days=3)  # Monday 14 Dec
    review = ok(manager.get("/api/v1/reviews?state=overdue"))["reviews"][0]
    assert review["overdue"] is True
    ok(manager.post(f"/api/v1/reviews/{review['id']}/close", {"note": "已整改"}))
    assert ok(manager.get("/api/v1/reviews?state=overdue"))["reviews"] == []


def test_unknown_and_good_reviews_are_404(
    known_day: dict[str, Any],
    login: Callable[[str], Staff],
) -> None:
    manager = login("manager")
    good = ok(manager.get("/api/v1/reviews?rating_max=5"))["reviews"]
    five = next(review for review in good if review["rating"] == 5)
    assert manager.post(f"/api/v1/reviews/{five['id']}/note", {"note": "x"}).status_code == 404
    assert manager.post("/api/v1/reviews/999999/note", {"note": "x"}).status_code == 404
    assert manager.post("/api/v1/reviews/abc/note", {"note": "x"}).status_code == 404
    assert manager.get("/api/v1/reviews?rating_max=9").status_code == 400
    assert manager.get("/api/v1/reviews?state=lost").status_code == 400


def test_clerks_cannot_follow_up(
    known_day: dict[str, Any],
    login: Callable[[str], Staff],
) -> None:
    review_id = ok(login("manager").get("/api/v1/reviews"))["reviews"][0]["id"]
    clerk = login("clerk02")
    response = clerk.post(f"/api/v1/reviews/{review_id}/close", {"note": "x"})
    assert response.status_code == 403
    assert clerk.client.post(f"/api/v1/reviews/{review_id}/close").status_code == 401
