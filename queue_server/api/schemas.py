"""Request and response shapes of /api/v1, declared once: requests are validated with them
and the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    # Strict: "3" is not a headcount; unknown keys are ignored so clients may send more.
    model_config = ConfigDict(strict=True, extra="ignore")


class IssueTicketIn(_Request):
    service: str = Field(min_length=1, max_length=64)
    party: Literal["individual", "enterprise"] = "individual"
    headcount: int = Field(1, ge=1)
    visitor_id: str | None = Field(
        None,
        max_length=32,
        description="ID card (individual) or unified social credit code (enterprise)",
    )
    phone: str | None = Field(None, max_length=20)
    priority: Literal["normal", "green"] = "normal"
    kiosk: str | None = Field(None, max_length=32)
    site: str | None = Field(None, max_length=32)


class LoginIn(_Request):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class CallNumberIn(_Request):
    number: str = Field(min_length=2, max_length=16)


class FinishIn(_Request):
    outcome: Literal["done", "cancelled"] = "done"
    services: list[str] | None = Field(None, min_length=1, max_length=20)


class TransferIn(_Request):
    queue: str | None = Field(None, max_length=8)
    counter: int | None = Field(None, ge=1)
    service: str | None = Field(None, max_length=64)
    position: Literal["front", "back"] | None = None


class HoldIn(_Request):
    reason: str = Field(min_length=1, max_length=500)
    keep_counter: bool = False


class RatingIn(_Request):
    rating: int = Field(ge=1, le=5)
    reasons: list[str] = Field(default_factory=list, max_length=10)


class EmptyIn(_Request):
    pass


class SiteQuery(_Request):
    site: str | None = None


class NumberQuery(_Request):
    number: str = Field(min_length=2, max_length=16)
    site: str | None = None


class EventsQuery(_Request):
    model_config = ConfigDict(strict=False, extra="ignore")
    since: int = Field(0, ge=0)
    site: str | None = None


# -- responses -------------------------------------------------------------------------


class StepOut(BaseModel):
    position: int
    queue: str
    services: list[str]
    status: str
    outcome: str | None
    reason: str | None
    call_reason: str | None
    enqueued_at: str | None
    called_at: str | None
    started_at: str | None
    ended_at: str | None
    counter: int | None
    clerk_name: str | None
    recalls: int
    hold_reason: str | None
    keep_counter: bool
    rating: int | None


class TicketOut(BaseModel):
    """T of SPEC §4. Staff also see party, headcount, priority, masked identity and steps."""

    id: str
    number: str
    queue: str
    queue_name: str
    service: str
    service_name: str
    services: list[str]
    category: str | None
    state: Literal["waiting", "called", "serving", "held", "missed", "done", "cancelled", "expired"]
    step: int
    steps_total: int
    waiting_ahead: int | None
    est_wait_s: int | None
    issued_at: str
    status_url: str
    counter: int | None
    reason: str | None
    return_until: str | None
    reinstate_until: str | None
    party: str | None = None
    headcount: int | None = None
    priority: str | None = None
    visitor_id_masked: str | None = None
    phone_masked: str | None = None
    steps: list[StepOut] | None = None


class TicketEnvelope(BaseModel):
    ticket: TicketOut


class MaybeTicketEnvelope(BaseModel):
    ticket: TicketOut | None


class IssueTicketOut(BaseModel):
    ticket: TicketOut
    reused: bool


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class HealthOut(BaseModel):
    status: str
    database: str


class ServiceOut(BaseModel):
    code: str
    name: str
    category: str
    parties: list[str]
    target_wait_min: float


class QueueOut(BaseModel):
    code: str
    name: str
    waiting: int
    est_wait_s: int
    longest_wait_s: int


class UserOut(BaseModel):
    username: str
    name: str
    role: str


class LoginOut(BaseModel):
    token: str
    user: UserOut


class CounterOut(BaseModel):
    counter: int
    counter_name: str
    location: str | None
    state: Literal["closed", "open", "paused"]
    clerk_name: str | None
    clerk_no: str | None
    current: str | None
    queues: list[str] | None = None
    strategy: str | None = None
    clerk: str | None = None


class CounterEnvelope(BaseModel):
    counter: CounterOut


class CallOut(BaseModel):
    number: str
    counter: int
    counter_name: str
    location: str | None
    queue: str
    recall: bool
    reason: str | None
    text: str
    speech: str
    at: str
    seq: int | None = None
    state: str | None = None


class SnapshotOut(BaseModel):
    seq: int
    site: str
    site_name: str
    notice: str
    calls: list[CallOut]
    recent: list[CallOut]
    queues: list[QueueOut]
    counters: list[CounterOut]


class RatingBody(BaseModel):
    counter: int
    rating: int
    at: str


class RatingOut(BaseModel):
    rating: RatingBody


class LiveQueueOut(BaseModel):
    code: str
    name: str
    waiting: int
    longest_wait_s: int
    target_wait_s: int | None
    est_wait_s: int


class LiveCounterOut(BaseModel):
    number: int
    name: str
    state: str
    clerk_name: str | None
    current: str | None
    idle_s: int | None
    state_since: str | None


class AlertOut(BaseModel):
    kind: str
    message: str
    queue: str | None = None


class LiveStatsOut(BaseModel):
    seq: int
    queues: list[LiveQueueOut]
    counters: list[LiveCounterOut]
    alerts: list[AlertOut]


class EventOut(BaseModel):
    seq: int
    at: str
    actor: str
    kind: str
    ticket_id: str | None
    counter: int | None
    from_: str | None = Field(alias="from")
    to: str | None
    detail: dict[str, object]


class EventsOut(BaseModel):
    events: list[EventOut]
