"""Staff endpoints: login, counters, a ticket by number, live stats, the event log."""

from __future__ import annotations

from typing import Any

from flask import request

from queue_server.api import (
    base_url,
    bearer_token,
    current_user,
    operation,
    parse_body,
    parse_query,
    staff_site,
)
from queue_server.api.schemas import (
    CounterDetailOut,
    CounterOut,
    EventsOut,
    EventsQuery,
    LiveStatsOut,
    LoginIn,
    LoginOut,
    LogoutOut,
    NumberQuery,
    SiteQuery,
    TicketEnvelope,
)
from queue_server.app_context import yihao
from queue_server.services import auth, counters, reports, tickets

MANAGERS = ("manager", "admin")


@operation(
    "POST",
    "/auth/login",
    "Staff login → bearer token",
    body=LoginIn,
    response=LoginOut,
    tag="auth",
    errors=(400, 401, 429),
)
def login() -> Any:
    body = parse_body(LoginIn)
    staff = yihao().staff
    user = staff.authenticate(body.username, body.password)
    return {
        "token": staff.issue_token(user),
        "user": {
            "username": user.username,
            "name": user.name,
            "role": user.role,
            "clerk_no": user.clerk_no,
            "counter": user.counter,
        },
    }


@operation(
    "POST",
    "/auth/logout",
    "Log out: the token is refused from now on, by every process",
    response=LogoutOut,
    auth="staff",
    tag="auth",
    errors=(401,),
)
def logout() -> Any:
    extension = yihao()
    _, login_id = extension.staff.login_of_token(bearer_token(request.headers))
    with extension.sessions.begin() as session:
        auth.revoke_login(session, login_id, extension.settings.token_max_age_s)
    return {"logged_out": True}


@operation(
    "GET",
    "/counters",
    "Counters with state, clerk and current number",
    query=SiteQuery,
    response=CounterOut,
    response_list=True,
    auth="staff",
    tag="counters",
    errors=(401, 403, 404),
)
def list_counters() -> Any:
    user = current_user()
    return yihao().read(staff_site(user), counters.list_counters)


@operation(
    "GET",
    "/counters/{n}",
    "One counter with its lines, held and missed tickets",
    query=SiteQuery,
    response=CounterDetailOut,
    auth="staff",
    tag="counters",
    errors=(401, 403, 404),
)
def counter_detail(n: int) -> Any:
    user = current_user()
    return yihao().read(staff_site(user), counters.counter_snapshot, n, base_url=base_url())


@operation(
    "GET",
    "/tickets",
    "Today's ticket by its number",
    query=NumberQuery,
    response=TicketEnvelope,
    auth="staff",
    errors=(400, 401, 403, 404),
)
def ticket_by_number() -> Any:
    user = current_user()
    query = parse_query(NumberQuery)
    view = yihao().read(staff_site(user), tickets.find_by_number, query.number, base_url=base_url())
    return {"ticket": view}


@operation(
    "GET",
    "/stats/live",
    "Live load: lines, counters, alerts",
    query=SiteQuery,
    response=LiveStatsOut,
    auth="manager",
    tag="manager",
    errors=(401, 403),
)
def live_stats() -> Any:
    user = current_user(*MANAGERS)
    return yihao().read(staff_site(user), reports.live_stats)


@operation(
    "GET",
    "/events",
    "The event log after a seq, in seq order (1000 at most a page)",
    query=EventsQuery,
    response=EventsOut,
    auth="manager",
    tag="manager",
    errors=(400, 401, 403),
)
def events() -> Any:
    user = current_user(*MANAGERS)
    query = parse_query(EventsQuery)
    return {"events": yihao().read(staff_site(user), reports.events_since, query.since)}
