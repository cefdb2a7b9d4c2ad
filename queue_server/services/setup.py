"""Schema migration at start and syncing the hall file's sites and counters into the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from queue_server import migrations
from queue_server.config import HallConfig
from queue_server.models import Counter, Site, SiteSequence

SCHEMA_LOCK_ID = 0x59494841  # "YIHA": any fixed number shared by every process


@contextmanager
def schema_lock(engine: Engine) -> Iterator[None]:
    """Processes that start together on one PostgreSQL database take turns to create the
    schema and sync the hall (SQLite deployments are one process)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": SCHEMA_LOCK_ID})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": SCHEMA_LOCK_ID})
            connection.commit()


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration; call it under `schema_lock`.

    An empty database gets every table. One that `create_all` made before migrations existed
    (tables, no alembic_version) is stamped at the newest revision when it already matches
    the models, or else adopted by the baseline revision 0001 (which adds only the tables and
    indexes it lacks) and upgraded from there. Any other is upgraded from the revision it
    records. See docs/migrations.md."""
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        if migrations.VERSION_TABLE in tables and (
            migrations.current_revisions(connection) == migrations.head_revisions()
        ):
            connection.rollback()
            return  # already the newest: nothing to load or run
        unversioned = bool(tables) and migrations.VERSION_TABLE not in tables
        if unversioned and not migrations.differences(connection):
            connection.rollback()
            migrations.stamp(connection, "head")
        connection.rollback()
        migrations.upgrade(connection, "head")


def sync_hall(session: Session, hall: HallConfig) -> None:
    """The hall file is the declared set-up: names, lines and strategies follow it at every
    start; a counter's live state (open, clerk, ticket in hand) is kept."""
    for site in hall.sites:
        row = session.get(Site, site.code)
        if row is None:
            session.add(Site(code=site.code, name=site.name))
            session.flush()
        else:
            row.name = site.name
        if session.get(SiteSequence, (site.code, "event")) is None:
            session.add(SiteSequence(site_code=site.code, name="event", value=0))
        existing = {
            counter.number: counter
            for counter in session.scalars(select(Counter).where(Counter.site_code == site.code))
        }
        for config in site.counters:
            counter = existing.get(config.number)
            if counter is None:
                counter = Counter(site_code=site.code, number=config.number, state="closed")
                session.add(counter)
            counter.name = config.name
            counter.location = config.location
            counter.queues = list(config.queues)
            counter.strategy = config.strategy
    session.commit()
