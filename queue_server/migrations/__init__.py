"""Alembic migrations of the schema: run at every start (`services.setup.upgrade_schema`) and
by hand (`python run.py db upgrade`). There is no alembic.ini: `alembic_config()` builds the
configuration here, so migrations run from any working directory and from an installed copy.
How to add a revision: docs/migrations.md."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

from alembic import command, op
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

import queue_server.models  # noqa: F401  (every table on Base.metadata)
from queue_server.db import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """A Config for alembic's commands; env.py runs them on `connection` when one is given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> tuple[str, ...]:
    """The newest revision(s); read once per process while the versions folder is unchanged
    (loading the scripts is most of a start's schema check)."""
    return _heads_as_of(VERSIONS_DIR.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _heads_as_of(versions_mtime_ns: int) -> tuple[str, ...]:
    return tuple(script_directory().get_heads())


def next_revision_id() -> str:
    """Revisions are numbered 0001, 0002, … so the files sort in the order they run."""
    numbers = [int(script.revision) for script in script_directory().walk_revisions()]
    return f"{max(numbers, default=0) + 1:04d}"


def current_revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def differences(connection: Connection) -> list[Any]:
    """What autogenerate would write: the models (Base.metadata) against the database."""
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "target_metadata": Base.metadata}
    )
    return list(compare_metadata(context, Base.metadata))


def stamp(connection: Connection, revision: str) -> None:
    """Record `revision` as the database's own without running anything, and commit."""
    command.stamp(alembic_config(connection), revision)
    if connection.in_transaction():
        connection.commit()


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run the migrations up to `revision` on `connection` (outside a transaction) and commit.

    SQLite: batch migrations copy and drop tables, which enforced foreign keys forbid, and the
    pragma is ignored inside a transaction; so foreign keys are off from before the first
    BEGIN until after the commit, and env.py checks every one before committing."""
    if connection.in_transaction():
        raise RuntimeError("migrations need a connection outside a transaction")
    sqlite = connection.dialect.name == "sqlite"
    driver = connection.connection.driver_connection if sqlite else None
    if driver is not None:
        driver.execute("PRAGMA foreign_keys=OFF")
    try:
        command.upgrade(alembic_config(connection), revision)
        if connection.in_transaction():
            connection.commit()
    finally:
        if connection.in_transaction():
            connection.rollback()
        if driver is not None:
            driver.execute("PRAGMA foreign_keys=ON")


def autogenerate(connection: Connection, message: str) -> str:
    """Write a new revision from the difference between the models and `connection`'s
    database (upgraded to head first); returns the new file's path."""
    upgrade(connection, "head")
    config = alembic_config(connection)
    if shutil.which("ruff"):  # a development tool: tidy the new file to the house style
        config.set_section_option("post_write_hooks", "hooks", "ruff_format, ruff_fix")
        for hook, options in (("ruff_format", "format"), ("ruff_fix", "check --fix --quiet")):
            config.set_section_option("post_write_hooks", f"{hook}.type", "exec")
            config.set_section_option("post_write_hooks", f"{hook}.executable", "ruff")
            config.set_section_option(
                "post_write_hooks", f"{hook}.options", f"{options} REVISION_SCRIPT_FILENAME"
            )
    script = command.revision(
        config,
        message=message,
        autogenerate=True,
        rev_id=next_revision_id(),
    )
    if connection.in_transaction():
        connection.rollback()
    assert script is not None
    assert not isinstance(script, list)
    return str(script.path)


# For the revisions that describe the schema as it was when migrations came (0001, 0002): a
# database that create_all made then may already hold any part of it, so they create only
# what is missing. Later revisions are plain autogenerated ones.


def create_table_if_missing(name: str, *elements: Any) -> None:
    if not inspect(op.get_bind()).has_table(name):
        op.create_table(name, *elements)


def create_index_if_missing(name: str, table: str, columns: list[str], **options: Any) -> None:
    inspector = inspect(op.get_bind())
    if inspector.has_table(table) and name in {
        index["name"] for index in inspector.get_indexes(table)
    }:
        return
    op.create_index(name, table, columns, **options)
