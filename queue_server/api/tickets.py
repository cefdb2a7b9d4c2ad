"""Public endpoints: businesses, lines, taking a ticket and following it, the screens'
snapshot and the visitor's rating."""

from __future__ import annotations

from typing import Any

from queue_server.api import (
    base_url,
    operation,
    parse_body,
    parse_query,
    public_site,
)
from queue_server.api.schemas import (
    EmptyIn,
    IssueTicketIn,
    IssueTicketOut,
    QueueOut,
    RatingIn,
    RatingOut,
    ServiceOut,
    SiteQuery,
    SnapshotOut,
    TicketEnvelope,
)
from queue_server.app_context import yihao
from queue_server.config import SiteConfig
from queue_server.errors import NotFound
from queue_server.realtime.publisher import queues_payload
from queue_server.services import counters, tickets
from queue_server.services.views import display_snapshot


@operation(
    "GET",
    "/services",
    "Businesses a visitor can choose",
    query=SiteQuery,
    response=ServiceOut,
    response_list=True,
    errors=(400,),
)
def list_services() -> Any:
    site = public_site(parse_query(SiteQuery).site)
    return [
        {
            "code": service.code,
            "name": service.name,
            "name_en": service.name_en,
            "category": service.category,
            "parties": list(service.parties),
            "target_wait_min": service.target_wait_min,
        }
        for service in site.services
    ]


@operation(
    "GET",
    "/queues",
    "Lines with waiting count and estimate",
    query=SiteQuery,
    response=QueueOut,
    response_list=True,
    errors=(400,),
)
def list_queues() -> Any:
    site = public_site(parse_query(SiteQuery).site)
    names_en = {queue.code: queue.name_en for queue in site.queues}
    return [
        dict(row, name_en=names_en.get(row["code"]))
        for row in yihao().read(site, queues_payload)["queues"]
    ]


@operation(
    "POST",
    "/tickets",
    "Take a number (one per visitor per day: 一号到底)",
    body=IssueTicketIn,
    response=IssueTicketOut,
    status=201,
    also=(200,),  # the visitor's ticket of today, reused (一号到底)
    errors=(400, 404, 409),  # 404: an unknown appointment code
)
def issue_ticket() -> Any:
    body = parse_body(IssueTicketIn)
    site = public_site(body.site)
    request_ = tickets.IssueRequest(
        service=body.service or "",
        party=body.party,
        headcount=body.headcount,
        visitor_id=body.visitor_id,
        phone=body.phone,
        priority=body.priority,
        kiosk=body.kiosk,
        reprint=body.reprint,
        appointment=body.appointment,
    )
    result = yihao().run(
        site, body.kiosk or "visitor", tickets.issue_ticket, request_, base_url=base_url()
    )
    return {"ticket": _public(result.ticket), "reused": result.reused}, (
        200 if result.reused else 201
    )


def _public(view: dict[str, Any]) -> dict[str, Any]:
    """What a visitor sees of their ticket: no staff-only fields."""
    hidden = ("party", "headcount", "priority", "visitor_id_masked", "phone_masked", "steps")
    return {key: value for key, value in view.items() if key not in hidden}


def _ticket_site(ticket_id: str) -> SiteConfig:
    site = yihao().site_holding(tickets.site_of_ticket, ticket_id)
    if site is None:
        raise NotFound("没有这张号票")
    return site


@operation(
    "GET",
    "/tickets/{ticket_id}",
    "A ticket with its live position and estimate",
    response=TicketEnvelope,
    errors=(404,),
)
def get_ticket(ticket_id: str) -> Any:
    site = _ticket_site(ticket_id)
    return {
        "ticket": _public(yihao().read(site, tickets.find_ticket, ticket_id, base_url=base_url()))
    }


def _ticket_action(ticket_id: str, use_case: Any) -> Any:
    parse_body(EmptyIn)
    site = _ticket_site(ticket_id)
    view = yihao().run(site, "visitor", use_case, ticket_id, base_url=base_url())
    return {"ticket": _public(view)}


@operation(
    "POST",
    "/tickets/{ticket_id}/cancel",
    "Give up the visit (waiting, held or missed)",
    body=EmptyIn,
    response=TicketEnvelope,
    errors=(404, 409),
)
def cancel_ticket(ticket_id: str) -> Any:
    return _ticket_action(ticket_id, tickets.cancel_ticket)


@operation(
    "POST",
    "/tickets/{ticket_id}/return",
    "Back from a hold (补材料回来), same number",
    body=EmptyIn,
    response=TicketEnvelope,
    errors=(404, 409),
)
def return_ticket(ticket_id: str) -> Any:
    return _ticket_action(ticket_id, tickets.return_ticket)


@operation(
    "POST",
    "/tickets/{ticket_id}/reinstate",
    "Back after a no-show, within the grace",
    body=EmptyIn,
    response=TicketEnvelope,
    errors=(404, 409),
)
def reinstate_ticket(ticket_id: str) -> Any:
    return _ticket_action(ticket_id, tickets.reinstate_ticket)


@operation(
    "GET",
    "/display/snapshot",
    "What a hall screen shows now (as Socket.IO `snapshot`)",
    query=SiteQuery,
    response=SnapshotOut,
    tag="display",
    errors=(400,),
)
def snapshot() -> Any:
    site = public_site(parse_query(SiteQuery).site)
    return yihao().read(site, display_snapshot)


@operation(
    "POST",
    "/counters/{n}/rating",
    "The visitor's rating (好差评) of the step just finished",
    body=RatingIn,
    query=SiteQuery,
    response=RatingOut,
    status=201,
    tag="display",
    errors=(400, 404, 409),
)
def rate(n: int) -> Any:
    body = parse_body(RatingIn)
    site = public_site(parse_query(SiteQuery).site)
    rating = yihao().run(site, "visitor", counters.rate, n, body.rating, body.reasons)
    return {"rating": rating}, 201
