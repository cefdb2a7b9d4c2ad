"""The `/kiosk` namespace: print agents on kiosk PCs with their own printer.

An agent connects with auth `{kiosk, token}` (the kiosk's `agent_token` in the hall file;
query `site` for another site than the default). It then receives `job` for every ticket to
print at its kiosk — first every job not yet acknowledged, then new ones as they are queued
— and answers `ack {job}` once the paper is out, or `failed {job, error, fault}`. A job
that is not acknowledged is sent again (after a reconnect, or after a while); the agent
prints each job id once.
"""

from __future__ import annotations

import hmac
import threading
from typing import Any

from flask import request
from flask_socketio import emit, join_room

from queue_server.app_context import Yihao
from queue_server.config import KioskConfig, SiteConfig
from queue_server.protocol import (
    AUTH_KIOSK,
    AUTH_TOKEN,
    EVENT_JOB,
    JOB_ID,
    JOB_LAYOUT,
    JOB_NUMBER,
    JOB_VIEW,
    REPLY_ERROR,
    REPLY_FAULT,
    REPLY_JOB,
)
from queue_server.realtime.namespaces import YihaoNamespace
from queue_server.services import printing


def agent_room(site_code: str, kiosk: str) -> str:
    return f"kiosk:{site_code}:{kiosk}"


def job_message(job: printing.ClaimedJob, kiosk: KioskConfig | None) -> dict[str, Any]:
    """The `job` message for a print agent: it renders the ticket itself."""
    return {
        JOB_ID: job.id,
        "ticket_id": job.ticket_id,
        JOB_NUMBER: job.number,
        "reprint": job.reprint,
        "attempt": job.attempts,
        JOB_VIEW: job.view,
        JOB_LAYOUT: printing.layout_of(kiosk),
    }


class KioskNamespace(YihaoNamespace):
    def __init__(self, namespace: str, yihao: Yihao) -> None:
        super().__init__(namespace, yihao)
        self._agents: dict[str, tuple[SiteConfig, str]] = {}  # sid -> (site, kiosk)
        self._lock = threading.Lock()

    def on_connect(self, auth: Any = None) -> None:
        site = self.site_from_query()
        kiosk_code = auth.get(AUTH_KIOSK) if isinstance(auth, dict) else None
        token = auth.get(AUTH_TOKEN) if isinstance(auth, dict) else None
        kiosk = site.kiosk(kiosk_code) if isinstance(kiosk_code, str) else None
        if (
            kiosk is None
            or not kiosk.agent_token
            or not isinstance(token, str)
            or not hmac.compare_digest(token.encode(), kiosk.agent_token.encode())
        ):
            raise ConnectionRefusedError("unauthenticated")
        with self._lock:
            self._agents[_sid()] = (site, kiosk.code)
        join_room(agent_room(site.code, kiosk.code))
        jobs = self.yihao.run(
            site, f"agent:{kiosk.code}", printing.claim_agent_jobs, kiosk.code, everything=True
        )
        for job in jobs:
            emit(EVENT_JOB, job_message(job, kiosk))

    def on_disconnect(self, reason: Any = None) -> None:
        with self._lock:
            self._agents.pop(_sid(), None)

    def on_ack(self, data: Any = None) -> dict[str, Any]:
        site, kiosk = self._agent()
        job_id = _job_id(data)
        if job_id is None:
            return {"ok": False, "error": "job must be a print job id"}
        self.yihao.run(site, f"agent:{kiosk}", printing.mark_printed, job_id, kiosk)
        return {"ok": True}

    def on_failed(self, data: Any = None) -> dict[str, Any]:
        site, kiosk = self._agent()
        job_id = _job_id(data)
        if job_id is None:
            return {"ok": False, "error": "job must be a print job id"}
        error = data.get(REPLY_ERROR) if isinstance(data, dict) else None
        fault = bool(data.get(REPLY_FAULT)) if isinstance(data, dict) else False
        self.yihao.run(
            site,
            f"agent:{kiosk}",
            printing.mark_failed,
            job_id,
            str(error or "the print agent could not print")[:500],
            printer_fault=fault,
            kiosk=kiosk,
        )
        return {"ok": True}

    def _agent(self) -> tuple[SiteConfig, str]:
        with self._lock:
            agent = self._agents.get(_sid())
        if agent is None:
            raise ConnectionRefusedError("unauthenticated")
        return agent


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]


def _job_id(data: Any) -> int | None:
    value = data.get(REPLY_JOB) if isinstance(data, dict) else data
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value
