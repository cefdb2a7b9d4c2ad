"""What pages send browsers: everything from this server, nothing inline, never framed.

Staff pages (`staff_page_headers`) are never framed. The public pages — the hall and
counter-top screens, the phone page, the kiosk — send the same strict policy through
`public_page_headers`, framed by nobody unless the hall lets its own sites embed the screens
(`YIHAO_FRAME_ANCESTORS`, e.g. `'self' https://portal.example.gov.cn`)."""

from __future__ import annotations

from flask import Response, current_app

SOURCES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)
NOBODY = "'none'"


def policy(frame_ancestors: str = NOBODY) -> str:
    return "; ".join((*SOURCES, f"frame-ancestors {frame_ancestors}"))


CONTENT_SECURITY_POLICY = policy()


def public_page_headers(response: Response) -> Response:
    """After each public page: the strict policy, nosniff, and who may frame it."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        frame_ancestors = current_app.extensions["yihao"].settings.frame_ancestors
        response.headers["Content-Security-Policy"] = policy(frame_ancestors)
        if frame_ancestors == NOBODY:
            response.headers["X-Frame-Options"] = "DENY"
    return response
