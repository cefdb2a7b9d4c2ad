"""Hall settings changed by an admin at run time, effective without a restart.

- A service's target wait and daily quota, and the hall notice, are `site_settings` rows
  laid over the hall file: `refresh()` rebuilds the hall configuration the process uses
  (at once in the process that made the change; other processes check at most once a
  second, on their next request or job).
- A counter's lines and strategy are its `counters` row (read by every call) and a
  `site_settings` row, re-applied after the hall file is synced at start.
- Pause, resume and close go through the counter use cases (an admin may act on any), so
  they are the counter's own events (`counter_paused`, `counter_open`, `counter_closed`).
Every other change is an event `setting` `{name, old, new}` in the log.
"""

from __future__ import annotations

import dataclasses
import time
import unicodedata
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server.config import HallConfig, SiteConfig, UserConfig
from queue_server.domain.events import NoticeChanged
from queue_server.errors import BadRequest, NotFound
from queue_server.manager.models import SiteSetting
from queue_server.models import Counter, Event
from queue_server.services import counters as counter_use_cases
from queue_server.services.unit_of_work import UnitOfWork
from queue_server.services.views import local_iso

if TYPE_CHECKING:
    from queue_server.app_context import Yihao

CHECK_INTERVAL_S = 1.0


# -- applying the rows over the hall file ------------------------------------------------
def apply_settings(site: SiteConfig, values: dict[str, Any]) -> SiteConfig:
    """The site as the hall file says, with the stored settings laid over it."""
    services = []
    for service in site.services:
        changes: dict[str, Any] = {}
        target = values.get(f"service.{service.code}.target_wait_min")
        if target is not None:
            changes["target_wait_min"] = float(target)
        quota_key = f"service.{service.code}.daily_quota"
        if quota_key in values:
            changes["daily_quota"] = values[quota_key] or None
        services.append(service.model_copy(update=changes) if changes else service)
    counters = []
    for counter in site.counters:
        changes = {}
        queues = values.get(f"counter.{counter.number}.queues")
        if queues:
            changes["queues"] = tuple(queues)
        strategy = values.get(f"counter.{counter.number}.strategy")
        if strategy:
            changes["strategy"] = strategy
        counters.append(counter.model_copy(update=changes) if changes else counter)
    update: dict[str, Any] = {"services": tuple(services), "counters": tuple(counters)}
    if "notice" in values:
        update["notice"] = str(values["notice"])
    return site.model_copy(update=update)


def _stored(session: Session) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {}
    for row in session.scalars(select(SiteSetting)):
        values.setdefault(row.site_code, {})[row.name] = row.value
    return values


def refresh(yihao: Yihao, *, force: bool = False) -> bool:
    """Lay the stored settings over the hall file if they changed; True when they did.

    The stored values themselves are compared (a few rows): a count and a latest
    `updated_at` miss a row changed twice within one clock tick, or by a process whose
    clock is behind."""
    overlay = yihao.overlay
    now = time.monotonic()
    if not force and now - overlay.checked_at < CHECK_INTERVAL_S:
        return False
    overlay.checked_at = now
    with yihao.readonly_sessions() as session:
        stored = _stored(session)
    if stored == overlay.applied:
        return False
    base = overlay.file_config
    sites = tuple(apply_settings(site, stored.get(site.code, {})) for site in base.sites)
    hall = base.model_copy(update={"sites": sites})
    yihao.hall = dataclasses.replace(yihao.hall, config=hall)
    overlay.applied = stored
    return True


def reapply_counter_settings(session: Session, hall: HallConfig) -> None:
    """After the hall file was synced at start: counters keep the lines an admin set."""
    stored = _stored(session)
    for site in hall.sites:
        values = stored.get(site.code, {})
        for counter in session.scalars(select(Counter).where(Counter.site_code == site.code)):
            queues = values.get(f"counter.{counter.number}.queues")
            strategy = values.get(f"counter.{counter.number}.strategy")
            if queues:
                counter.queues = list(queues)
            if strategy:
                counter.strategy = strategy
    session.commit()


# -- use cases ---------------------------------------------------------------------------
def _store(uow: UnitOfWork, name: str, value: Any) -> None:
    row = uow.session.get(SiteSetting, (uow.site.code, name))
    if row is None:
        row = SiteSetting(site_code=uow.site.code, name=name)
        uow.session.add(row)
    old = row.value
    row.value = value
    row.updated_at = uow.now
    row.updated_by = uow.actor
    uow.record("setting", name=name, old=old, new=value)


def change_service(
    uow: UnitOfWork,
    user: UserConfig,
    code: str,
    target_wait_min: float | None,
    daily_quota: int | None,
) -> None:
    service = uow.site.service(code)
    if service is None:
        raise NotFound("没有这项业务：%(service)s", service=code)
    if target_wait_min is not None:
        _store(uow, f"service.{code}.target_wait_min", target_wait_min)
    if daily_quota is not None:
        _store(uow, f"service.{code}.daily_quota", daily_quota or None)
    uow.session.flush()


def change_notice(uow: UnitOfWork, user: UserConfig, notice: str) -> None:
    # Shown on the screens and printed on tickets: line breaks, no other control characters.
    if any(unicodedata.category(char) == "Cc" and char != "\n" for char in notice):
        raise BadRequest("公告不能包含控制字符", code="invalid_field")
    _store(uow, "notice", notice)
    uow.happened(NoticeChanged(uow.site.code, notice))
    uow.session.flush()


def change_counter(
    uow: UnitOfWork,
    user: UserConfig,
    number: int,
    queues: list[str] | None,
    strategy: str | None,
    state: str | None,
) -> None:
    counter = counter_use_cases.load_counter(uow, number)
    if queues is not None:
        unknown = [code for code in queues if uow.site.queue(code) is None]
        if unknown:
            raise BadRequest(
                "没有这个队列：%(queue)s", code="invalid_field", queue=", ".join(unknown)
            )
        queues = list(dict.fromkeys(queues))
        counter.queues = queues
        _store(uow, f"counter.{number}.queues", queues)
    if strategy is not None:
        counter.strategy = strategy
        _store(uow, f"counter.{number}.strategy", strategy)
    if state == "paused":
        counter_use_cases.pause(uow, number, user)
    elif state == "open":
        if counter.state == "closed":
            raise BadRequest("关闭的窗口需由柜员登录后开放", code="invalid_field")
        counter_use_cases.resume(uow, number, user)
    elif state == "closed":
        counter_use_cases.sign_out(uow, number, user)
    uow.session.flush()


def current_settings(uow: UnitOfWork) -> dict[str, Any]:
    """The settings in force in this process (the stored ones laid over the hall file)."""
    site = uow.site
    counters = uow.session.scalars(
        select(Counter).where(Counter.site_code == uow.site.code).order_by(Counter.number)
    )
    changes = uow.session.scalars(
        select(Event)
        .where(Event.site_code == uow.site.code, Event.kind == "setting")
        .order_by(Event.seq.desc())
        .limit(20)
    )
    return {
        "notice": site.notice,
        "services": [
            {
                "code": service.code,
                "name": service.name,
                "category": service.category,
                "target_wait_min": service.target_wait_min,
                "daily_quota": service.daily_quota,
            }
            for service in site.services
        ],
        "counters": [
            {
                "number": counter.number,
                "name": counter.name,
                "queues": list(counter.queues),
                "strategy": counter.strategy,
                "state": counter.state,
                "clerk": counter.clerk_username,
            }
            for counter in counters
        ],
        "changes": [
            {
                "seq": event.seq,
                "at": local_iso(uow.site, event.at),
                "actor": event.actor,
                **event.detail,
            }
            for event in changes
        ],
    }
