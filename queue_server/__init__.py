"""Yihao (一号) queue server.

Importing this package does nothing and pulls in nothing: the clients import
`queue_server.protocol` on PCs that have no Flask or SQLAlchemy. `create_app()` (in
`queue_server/app.py`) builds everything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from queue_server.app import create_app as build

    return build(config)


__all__ = ["INSTANCE_DIR", "create_app"]
