"""Alembic's environment: runs on the connection `alembic_config()` was given (start-up and
`python run.py db …`), or on `sqlalchemy.url` when a caller sets that option instead."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context

import queue_server.models  # noqa: F401  (every table on Base.metadata)
from queue_server.db import Base, UTCDateTime, make_engine
from queue_server.migrations import VERSION_TABLE


def render_item(type_: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    """Revisions stay free of our own types: UTCDateTime is stored as DateTime(timezone=True)."""
    if type_ == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        before = context.get_context().get_current_heads()
        context.run_migrations()
        ran = context.get_context().get_current_heads() != before
        if ran and connection.dialect.name == "sqlite":
            # Foreign keys are off while migrating (see migrations.upgrade): check them all.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url: use queue_server.migrations")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported: run them on a database")
run_online()
