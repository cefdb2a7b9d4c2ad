"""The hall file's users: who may sign in where (SPEC §2), and the mistakes it names."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from queue_server.config import DEFAULT_HALL_FILE, ConfigError, parse_hall

DEMO: Any = yaml.safe_load(DEFAULT_HALL_FILE.read_text(encoding="utf-8"))


def hall_with(username: str, **changes: Any) -> Any:
    data = copy.deepcopy(DEMO)
    user = next(user for user in data["users"] if user["username"] == username)
    for name, value in changes.items():
        if value is None:
            user.pop(name, None)
        else:
            user[name] = value
    return data


def test_the_demo_halls_rights() -> None:
    hall = parse_hall(copy.deepcopy(DEMO))
    for number in range(1, 8):
        clerk = hall.user(f"clerk{number:02d}")
        assert clerk is not None
        assert [n for n in range(1, 11) if clerk.may_sign_into(n)] == [1, 2, 3, 4, 5, 6, 7]
    for number in (8, 9, 10):
        clerk = hall.user(f"clerk{number:02d}")
        assert clerk is not None
        assert [n for n in range(1, 11) if clerk.may_sign_into(n)] == [number]
    for username in ("manager", "admin"):
        staff = hall.user(username)
        assert staff is not None
        assert not any(staff.may_sign_into(n) for n in range(1, 11))


def test_no_list_means_every_counter() -> None:
    clerk = parse_hall(hall_with("clerk01", counters=None)).user("clerk01")
    assert clerk is not None
    assert clerk.counters is None
    assert all(clerk.may_sign_into(n) for n in range(1, 11))


@pytest.mark.parametrize(
    ("username", "changes", "words"),
    [
        ("clerk01", {"counters": [1, 11]}, "users.0.counters.1: counter 11 of user clerk01"),
        ("clerk02", {"counters": [2, 2]}, "users.1.counters of user clerk02: '2' appears twice"),
        ("clerk08", {"counters": [9]}, "users.7.counter: clerk08's usual counter 8"),
        ("manager", {"counters": [1]}, "users.10.counters: manager is a manager"),
        ("clerk03", {"counters": ["three"]}, "users.2.counters.0: Input should be a valid"),
    ],
)
def test_mistakes_are_config_errors_with_their_path(
    username: str, changes: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_hall(hall_with(username, **changes), source="hall.yaml")
    assert str(raised.value).startswith("hall.yaml: ")
    assert words in str(raised.value)


def test_a_counter_of_the_users_own_site_only() -> None:
    data = copy.deepcopy(DEMO)
    other = copy.deepcopy(data["sites"][0])
    other["code"] = "east"
    other["counters"] = [*other["counters"], {"number": 11, "name": "东区窗口", "queues": ["A"]}]
    data["sites"].append(other)
    data["users"][0]["counters"] = [1, 11]
    parse_hall(copy.deepcopy(data))  # no site: counter 11 exists at one of them
    data["users"][0]["site"] = "main"
    with pytest.raises(ConfigError, match="counter 11 of user clerk01 .* at site 'main'"):
        parse_hall(data)
