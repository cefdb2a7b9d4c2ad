"""Alembic migrations: from empty they give the models' schema; a database made before
migrations (by create_all) keeps every ticket when a start upgrades it; `python run.py db`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import Connection, Engine, func, inspect, select, text, update

from queue_server import migrations
from queue_server.db import Base, make_engine
from queue_server.manager.models import DailySummary
from queue_server.manager.stats import write_daily_summaries
from queue_server.models import DayCounter, Event, Step, Ticket
from tests.conftest import FakeClock
from tests.live_server import ROOT

VISIT_COUNTS = ("tickets", "visit_count", "visit_sum_s")

HEAD = migrations.head_revisions()[0]


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """These tests run the migrations themselves: each starts from an empty database, not
    from the session's migrated copy."""
    return empty_database_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


def test_the_chain_has_one_head_and_runs_in_file_order() -> None:
    revisions = list(reversed(list(migrations.script_directory().walk_revisions())))
    assert migrations.head_revisions() == (revisions[-1].revision,)
    assert [revision.revision for revision in revisions] == [
        f"{number:04d}" for number in range(1, len(revisions) + 1)
    ]
    assert [revision.down_revision for revision in revisions] == [
        None,
        *(revision.revision for revision in revisions[:-1]),
    ]
    assert migrations.next_revision_id() == f"{len(revisions) + 1:04d}"


def schema_of(connection: Connection, schema: str | None = None) -> dict[str, Any]:
    """Everything reflection sees of our tables, names included, in a comparable form:
    columns, keys, unique and check constraints, indexes with their WHERE clauses."""
    inspector = inspect(connection)
    where = f"{connection.dialect.name}_where"
    tables: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names(schema=schema)):
        if table == migrations.VERSION_TABLE:
            continue
        primary_key = inspector.get_pk_constraint(table, schema=schema)
        tables[table] = {
            "columns": [
                (column["name"], str(column["type"]), column["nullable"])
                for column in inspector.get_columns(table, schema=schema)
            ],
            "primary_key": (primary_key["name"], primary_key["constrained_columns"]),
            "foreign_keys": sorted(
                (key["name"], key["constrained_columns"], key["referred_table"])
                for key in inspector.get_foreign_keys(table, schema=schema)
            ),
            "uniques": sorted(
                (unique["name"], unique["column_names"])
                for unique in inspector.get_unique_constraints(table, schema=schema)
            ),
            "checks": sorted(
                (check["name"], check["sqltext"])
                for check in inspector.get_check_constraints(table, schema=schema)
            ),
            "indexes": sorted(
                (
                    index["name"],
                    index["column_names"],
                    bool(index["unique"]),
                    str(index.get("dialect_options", {}).get(where)),
                )
                for index in inspector.get_indexes(table, schema=schema)
            ),
        }
    return tables


def test_migrations_from_empty_give_the_models_schema(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    with engine.connect() as connection:
        migrations.upgrade(connection)
        assert migrations.current_revisions(connection) == (HEAD,)
        assert migrations.differences(connection) == []
        migrated = schema_of(connection)
        connection.rollback()

    # compare_metadata skips check constraints and partial indexes' WHERE: compare those
    # with what create_all makes from the models, on the same kind of database.
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS reference CASCADE"))
            connection.execute(text("CREATE SCHEMA reference"))
            Base.metadata.create_all(
                connection.execution_options(schema_translate_map={None: "reference"})
            )
        try:
            with engine.connect() as connection:
                reference = schema_of(connection, "reference")
        finally:
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA reference CASCADE"))
    else:
        reference_engine = make_engine(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
        Base.metadata.create_all(reference_engine)
        with reference_engine.connect() as connection:
            reference = schema_of(connection)
        reference_engine.dispose()
    assert migrated == reference
    assert set(migrated) == set(Base.metadata.tables)
    waiting_index = next(index for index in migrated["steps"]["indexes"] if "waiting" in index[0])
    assert "waiting" in waiting_index[3]  # the partial index kept its WHERE


def old_create_all(engine: Engine) -> None:
    """How a start made the schema before migrations."""
    Base.metadata.create_all(engine)


def downgrade_to_baseline_and_forget(engine: Engine) -> None:
    """A database as the code of revision 0001 made it with create_all: no version table."""
    with engine.connect() as connection:
        command.downgrade(migrations.alembic_config(connection), "0001")
        connection.commit()
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {migrations.VERSION_TABLE}"))


def contents(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return {
            "tickets": sorted(connection.execute(select(Ticket.id, Ticket.number)).all()),
            "steps": connection.scalar(select(func.count()).select_from(Step)),
            "events": sorted(connection.execute(select(Event.id, Event.seq, Event.kind)).all()),
            "day_counters": sorted(
                connection.execute(select(DayCounter.key, DayCounter.value)).all()
            ),
        }


def issue(app: Flask, service: str) -> dict[str, Any]:
    response = app.test_client().post("/api/v1/tickets", json={"service": service})
    assert response.status_code == 201, response.json
    ticket: dict[str, Any] = response.json["ticket"]
    return ticket


def call_next_at_counter_1(app: Flask) -> None:
    client = app.test_client()
    login = client.post("/api/v1/auth/login", json={"username": "clerk01", "password": "demo"})
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    for action in ("sign-in", "call-next"):
        response = client.post(f"/api/v1/counters/1/{action}", headers=headers)
        assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    "made_by",
    [
        pytest.param(old_create_all, id="create_all-of-these-models"),
        pytest.param(downgrade_to_baseline_and_forget, id="create_all-of-revision-0001"),
    ],
)
def test_a_database_made_before_migrations_keeps_its_tickets(
    make_app: Callable[..., Flask],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    made_by: Callable[[Engine], None],
) -> None:
    if made_by is old_create_all:
        monkeypatch.setattr("queue_server.services.setup.upgrade_schema", old_create_all)
    before_app = make_app()
    issued = [issue(before_app, service) for service in ("employment", "employment", "maternity")]
    call_next_at_counter_1(before_app)
    monkeypatch.undo()
    if made_by is downgrade_to_baseline_and_forget:
        made_by(engine)
    assert not inspect(engine).has_table(migrations.VERSION_TABLE)
    with engine.connect() as connection:  # these models' schema is stamped, 0001's upgraded
        assert bool(migrations.differences(connection)) == (made_by is not old_create_all)
    before = contents(engine)
    assert len(before["tickets"]) == 3
    assert before["events"]

    after_app = make_app()  # the start upgrades the schema

    with engine.connect() as connection:
        assert migrations.current_revisions(connection) == (HEAD,)
        assert migrations.differences(connection) == []
    assert contents(engine) == before
    following = issue(after_app, "employment")
    assert [ticket["number"] for ticket in issued] == ["A001", "A002", "C001"]
    assert following["number"] == "A003"
    assert len(contents(engine)["tickets"]) == 4


def run_db(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "db", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_db_upgrade_by_hand_from_any_directory_and_again(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    current = run_db("current", "--database", database_url, cwd=tmp_path)
    assert current.returncode == 0, current.stderr
    assert f"database revision: none; newest revision: {HEAD}" in current.stdout

    for _ in range(2):
        upgraded = run_db("upgrade", "--database", database_url, cwd=tmp_path)
        assert upgraded.returncode == 0, upgraded.stderr
        assert f"database revision: {HEAD}; newest revision: {HEAD}" in upgraded.stdout
        assert "serving on" not in upgraded.stdout  # no server started

    with engine.connect() as connection:
        assert migrations.current_revisions(connection) == (HEAD,)
        assert migrations.differences(connection) == []
    current = run_db("current", "--database", database_url, cwd=tmp_path)
    assert f"database revision: {HEAD}; newest revision: {HEAD}" in current.stdout


def test_db_upgrade_explains_a_bad_hall_file(tmp_path: Path) -> None:
    result = run_db(
        "upgrade",
        "--config",
        str(tmp_path / "nope.yaml"),
        "--database",
        f"sqlite:///{tmp_path / 'x.sqlite3'}",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "cannot read hall file" in result.stderr


def test_0008_drops_the_summaries_written_before_tickets_were_counted(
    make_app: Callable[..., Flask], engine: Engine, clock: FakeClock
) -> None:
    app = make_app()
    for service in ("employment", "employment", "maternity"):
        issue(app, service)
    call_next_at_counter_1(app)
    client = app.test_client()
    login = client.post("/api/v1/auth/login", json={"username": "manager", "password": "demo"})
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    assert client.post("/api/v1/counters/1/finish", headers=headers).status_code == 200
    clock.advance(days=1)
    extension = app.extensions["yihao"]
    site = extension.hall.config.default_site
    day = date(2026, 11, 20)
    with app.app_context():
        assert extension.run(site, "test", write_daily_summaries) == [day]
    # The summaries as the code before revision 0008 wrote them: no tickets, no visit times.
    with engine.begin() as connection:
        stored = connection.execute(
            select(DailySummary.report_group, DailySummary.key, DailySummary.totals)
        ).all()
        for group, key, totals in stored:
            old = {name: value for name, value in totals.items() if name not in VISIT_COUNTS}
            connection.execute(
                update(DailySummary)
                .where(DailySummary.report_group == group, DailySummary.key == key)
                .values(totals=old)
            )
    with engine.connect() as connection:
        command.downgrade(migrations.alembic_config(connection), "0007")
        connection.commit()

    after = make_app()  # the start upgrades: the old summaries go, the steps stay
    with engine.connect() as connection:
        assert migrations.current_revisions(connection) == (HEAD,)
        assert connection.scalar(select(func.count()).select_from(DailySummary)) == 0
        assert connection.scalar(select(func.count()).select_from(Step)) == 3
    client = after.test_client()
    path = f"/api/v1/stats?group=day&from={day}&to={day}"
    assert client.get(path, headers=headers).json["rows"][0]["tickets"] == 3  # from the steps
    with after.app_context():
        assert after.extensions["yihao"].run(site, "test", write_daily_summaries) == [day]
    assert client.get(path, headers=headers).json["rows"][0]["tickets"] == 3  # summarised
