import pytest

from queue_server.domain.numbering import call_speech, call_text, format_number
from queue_server.domain.routing import RoutingRule, default_rules, reachable_queues, route

RULES = default_rules(enterprise_backoffice_headcount=10)


@pytest.mark.parametrize(
    ("category", "party", "headcount", "queue"),
    [
        ("comprehensive", "individual", 1, "A"),
        ("comprehensive", "individual", 50, "A"),  # the threshold is for enterprises only
        ("comprehensive", "enterprise", 1, "B"),
        ("comprehensive", "enterprise", 9, "B"),
        ("comprehensive", "enterprise", 10, "E"),
        ("comprehensive", "enterprise", 300, "E"),
        ("special", "individual", 1, "C"),
        ("special", "enterprise", 20, "C"),
        ("pickup", "individual", 1, "D"),
        ("pickup", "enterprise", 12, "D"),
    ],
)
def test_default_rules(category: str, party: str, headcount: int, queue: str) -> None:
    assert route(RULES, category, party, headcount) == queue


def test_threshold_comes_from_policy() -> None:
    assert route(default_rules(5), "comprehensive", "enterprise", 5) == "E"
    assert route(default_rules(20), "comprehensive", "enterprise", 19) == "B"


def test_first_match_wins_and_no_match_is_none() -> None:
    rules = (RoutingRule("X", party="enterprise"), RoutingRule("Y"))
    assert route(rules, "special", "enterprise", 1) == "X"
    assert route(rules, "special", "individual", 1) == "Y"
    assert route((RoutingRule("Z", category="pickup"),), "special", "individual", 1) is None


def test_reachable_queues() -> None:
    assert reachable_queues(RULES, "comprehensive", ["individual", "enterprise"]) == {"A", "B", "E"}
    assert reachable_queues(RULES, "comprehensive", ["individual"]) == {"A"}


@pytest.mark.parametrize(
    ("prefix", "sequence_no", "number"),
    [("A", 1, "A001"), ("A", 23, "A023"), ("B", 999, "B999"), ("E", 1000, "E1000")],
)
def test_numbers(prefix: str, sequence_no: int, number: str) -> None:
    assert format_number(prefix, sequence_no) == number


def test_number_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        format_number("A", 0)


def test_call_text_and_speech() -> None:
    assert call_text("A023", 5, None) == "请A023号到5号窗口办理"
    assert call_text("E003", 10, "三楼") == "请E003号到三楼10号窗口办理"
    assert call_speech("A023", 5, None) == "请 A 零 二 三 号 到 5 号窗口办理"
