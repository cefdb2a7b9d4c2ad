"""Tickets on paper and at the kiosk: the ticket as a PNG, reprints, a returning visitor's
look-up (number + the identity given at issue; the number alone is never a key).

Who may reprint: staff (any signed-in clerk, manager or admin of the ticket's site) through
`POST /tickets/{id}/reprint`, onto the ticket's own kiosk or the one named. The kiosk
itself reprints only with the visitor's proof: `POST /tickets` with `reprint: true` and the
same identity (the reused ticket), or `POST /tickets/lookup` with `reprint: true`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from pydantic import BaseModel, ConfigDict, Field

from queue_server.api import (
    base_url,
    check_staff_site,
    current_user,
    operation,
    parse_body,
    parse_query,
    public_site,
    read_json_body,
)
from queue_server.api.schemas import ReducedTicketEnvelope, TicketOut
from queue_server.api.tickets import _public, _ticket_site
from queue_server.app_context import yihao
from queue_server.errors import BadRequest, YihaoError
from queue_server.services import printing, tickets
from queue_server.services.steps import get_ticket
from queue_server.services.unit_of_work import UnitOfWork
from ticket_printer.render import CJKFontNotFoundError, TicketLayout, TicketView, render_ticket_png


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class ReprintIn(_Request):
    kiosk: str | None = Field(
        None, max_length=32, description="default: the kiosk that issued it, else K1"
    )


class LookupIn(_Request):
    number: str = Field(min_length=2, max_length=16, description="the ticket number, e.g. A023")
    visitor_id: str | None = Field(None, max_length=32)
    phone: str | None = Field(None, max_length=20)
    site: str | None = Field(None, max_length=32)
    kiosk: str | None = Field(None, max_length=32)
    reprint: bool = Field(False, description="with `kiosk`: print it there again")


class PngQuery(_Request):
    model_config = ConfigDict(strict=False, extra="ignore")
    width: int | None = Field(None, description="paper width in mm: 58 or 80")


class PrintJobOut(BaseModel):
    id: int
    kiosk: str
    state: str
    reprint: bool


class ReprintOut(BaseModel):
    ticket: TicketOut
    print_job: PrintJobOut


class Unavailable(YihaoError):
    status = 503
    code = "unavailable"


@operation(
    "GET",
    "/tickets/{ticket_id}/ticket.png",
    "The paper ticket as a PNG (the same layout), for the kiosk screen and the docs",
    query=PngQuery,
    errors=(400, 404, 503),  # 503: no CJK font to draw it with
    content_type="image/png",
)
def ticket_png(ticket_id: str) -> Any:
    width = parse_query(PngQuery).width
    if width not in (None, 58, 80):
        raise BadRequest("width: 纸宽只能是 58 或 80（毫米）", code="invalid_field")
    site = _ticket_site(ticket_id)
    view, layout = yihao().read(site, _paper, ticket_id, base_url=base_url())
    if width is not None:
        layout["paper_mm"] = width
    try:
        image = render_ticket_png(
            TicketView(**view), TicketLayout(width_mm=layout["paper_mm"], qr=layout["qr"])
        )
    except CJKFontNotFoundError as error:
        raise Unavailable(str(error)) from None
    response = Response(image, mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"  # people ahead changes
    return response


def _paper(uow: UnitOfWork, ticket_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ticket = get_ticket(uow, ticket_id, lock=False)
    kiosk = uow.site.kiosk(ticket.kiosk) if ticket.kiosk else None
    return printing.paper_view(uow, ticket), printing.layout_of(kiosk)


@operation(
    "POST",
    "/tickets/{ticket_id}/reprint",
    "Print a ticket again (staff), on its kiosk's printer or the kiosk named",
    body=ReprintIn,
    response=ReprintOut,
    status=202,
    auth="staff",
    errors=(400, 401, 403, 404, 409),
)
def reprint(ticket_id: str) -> Any:
    user = current_user("clerk", "manager", "admin")
    body = parse_body(ReprintIn)
    site = _ticket_site(ticket_id)
    check_staff_site(user, site.code)
    result = yihao().run(
        site,
        user.username,
        printing.reprint_ticket,
        ticket_id,
        body.kiosk,
        base_url=base_url(),
    )
    return {"ticket": _public(result["ticket"]), "print_job": result["print_job"]}, 202


@operation(
    "POST",
    "/tickets/lookup",
    "A returning visitor's ticket: today's number plus the ID-card, credit code or phone "
    "given at issue",
    body=LookupIn,
    response=ReducedTicketEnvelope,
    errors=(400, 404, 429),
)
def lookup() -> Any:
    body = parse_body(LookupIn)
    site = public_site(body.site)
    view = yihao().run(
        site,
        body.kiosk or "visitor",
        tickets.lookup_ticket,
        body.number,
        body.visitor_id,
        body.phone,
        kiosk=body.kiosk,
        reprint=body.reprint,
        base_url=base_url(),
    )
    return {"ticket": _public(view)}


def limit_lookups(app: Flask, limiter: Limiter, limit: str) -> None:
    """Failed look-ups are limited per (client address, number) like logins (SPEC §2, 429):
    a number cannot be tried against ID or phone numbers one after another."""

    def lookup_key() -> str:
        try:
            body = read_json_body(any_type=True)  # deep JSON: 400 from the view, not a 500 here
        except YihaoError:
            body = None
        number = body.get("number") if isinstance(body, dict) else None
        return f"lookup:{get_remote_address()}:{str(number).strip().upper()}"

    limit_failures = limiter.limit(
        limit, key_func=lookup_key, deduct_when=lambda response: response.status_code == 404
    )
    app.view_functions["api.lookup"] = limit_failures(app.view_functions["api.lookup"])  # type: ignore[assignment]
