"""Which line a business goes to: ordered rules, first match wins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RoutingRule:
    queue: str
    category: str | None = None
    party: str | None = None
    min_headcount: int | None = None

    def matches(self, category: str, party: str, headcount: int) -> bool:
        return (
            (self.category is None or self.category == category)
            and (self.party is None or self.party == party)
            and (self.min_headcount is None or headcount >= self.min_headcount)
        )


def default_rules(enterprise_backoffice_headcount: int) -> tuple[RoutingRule, ...]:
    """SPEC §2: 企业 ≥ N 人 → back office (E); 企业 → B; 综合 → A; 专项 → C; 出件 → D."""
    return (
        RoutingRule("E", "comprehensive", "enterprise", enterprise_backoffice_headcount),
        RoutingRule("B", "comprehensive", "enterprise"),
        RoutingRule("A", "comprehensive"),
        RoutingRule("C", "special"),
        RoutingRule("D", "pickup"),
    )


def route(rules: Sequence[RoutingRule], category: str, party: str, headcount: int) -> str | None:
    for rule in rules:
        if rule.matches(category, party, headcount):
            return rule.queue
    return None


def reachable_queues(
    rules: Sequence[RoutingRule], category: str, parties: Sequence[str]
) -> set[str]:
    """Every line a business can be routed to, over its parties and any headcount."""
    headcounts = {1} | {rule.min_headcount for rule in rules if rule.min_headcount is not None}
    return {
        queue
        for party in parties
        for headcount in headcounts
        if (queue := route(rules, category, party, headcount)) is not None
    }
