"""Shared fixtures: an app on a real database (a SQLite file, and PostgreSQL when
YIHAO_TEST_POSTGRES_URL is set), a controllable clock, staff logins and a ticket factory.

The schema is built once per session: the migrations run once into a template SQLite file,
which each test copies (still a real file); on PostgreSQL they run once and each test then
empties the tables. Tests of the migrations themselves take `empty_database_url`."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text

from queue_server import create_app, migrations
from queue_server.config import DEFAULT_HALL_FILE, HallConfig, parse_hall
from queue_server.db import make_engine, normalise_url

POSTGRES_URL = os.environ.get("YIHAO_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI") == "true"
REDIS_URL = os.environ.get("YIHAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0" if IN_CI else None)
SECRET = "test-secret-key-for-yihao-tests-only"

# 2026-11-20 09:00 in Shanghai (a Friday).
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def database_params() -> list[Any]:
    params: list[Any] = ["sqlite"]
    if POSTGRES_URL or IN_CI:
        params.append(pytest.param("postgres", marks=pytest.mark.postgres))
    return params


def reset_postgres(url: str) -> None:
    engine = create_engine(normalise_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def postgres_and_redis() -> tuple[str, str]:
    """The URLs of the multi-process tests: under CI=true they must run, elsewhere they skip
    without both."""
    if not (POSTGRES_URL and REDIS_URL):
        if IN_CI:
            pytest.fail("CI=true needs YIHAO_TEST_POSTGRES_URL and Redis for the scale-out tests")
        pytest.skip("needs YIHAO_TEST_POSTGRES_URL and YIHAO_TEST_REDIS_URL")
    return POSTGRES_URL, REDIS_URL


def migrate(url: str) -> None:
    """Run every migration on an empty database, as a start does."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            migrations.upgrade(connection, "head")
    finally:
        engine.dispose()


def empty_postgres_tables(url: str, head: tuple[str, ...]) -> None:
    """Leave the test database at the newest schema with no rows: empty the tables when the
    schema is already there (the usual case), else drop everything and migrate (after a test
    that reset or downgraded the database itself)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as connection:
            tables = set(inspect(connection).get_table_names())
            at_head = (
                migrations.VERSION_TABLE in tables
                and migrations.current_revisions(connection) == head
            )
            if at_head:
                names = ", ".join(
                    f'"{table}"' for table in sorted(tables - {migrations.VERSION_TABLE})
                )
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
    if not at_head:
        reset_postgres(url)
        migrate(url)


@pytest.fixture(scope="session")
def schema_head() -> tuple[str, ...]:
    return migrations.head_revisions()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration run, made once per session."""
    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    # Closing the last connection checkpoints the WAL into the file: the file is the schema.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=database_params())
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database without any table: for the tests that run the migrations themselves."""
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.fail("CI=true needs YIHAO_TEST_POSTGRES_URL: PostgreSQL tests must run in CI")
        reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'yihao.sqlite3'}"


@pytest.fixture(params=database_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the newest schema with no rows: a copy of the session's migrated SQLite
    file, or the PostgreSQL test database with its tables emptied."""
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.fail("CI=true needs YIHAO_TEST_POSTGRES_URL: PostgreSQL tests must run in CI")
        empty_postgres_tables(POSTGRES_URL, request.getfixturevalue("schema_head"))
        return POSTGRES_URL
    path = tmp_path / "yihao.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def demo_hall_data() -> Any:
    """The demo hall file, read once (YAML parsing was a third of building an app)."""
    return yaml.safe_load(DEFAULT_HALL_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def demo_hall(demo_hall_data: Any) -> HallConfig:
    """The demo hall, parsed afresh for each test (an app may change its own hall)."""
    return parse_hall(copy.deepcopy(demo_hall_data), source=str(DEFAULT_HALL_FILE))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app_config(
    database_url: str, clock: FakeClock, tmp_path: Path, demo_hall: HallConfig
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "CLOCK": clock,
        "TESTING": True,
        "INSTANCE_DIR": str(tmp_path / "instance"),
    }
    if not os.environ.get("YIHAO_CONFIG"):  # a hall file named by the environment wins
        config["HALL"] = demo_hall
    return config


@pytest.fixture
def make_app(app_config: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Apps on the test database with settings changed; their connections closed after."""
    made: list[Flask] = []

    def build(**changes: Any) -> Flask:
        config = {**app_config, **changes}
        if "CONFIG" in changes and "HALL" not in changes:
            config.pop("HALL", None)  # the hall file named here, not the demo hall
        application = create_app(config)
        made.append(application)
        return application

    yield build
    for application in made:
        application.extensions["yihao"].engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Staff:
    client: FlaskClient
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post(self, path: str, json: Any = None) -> Any:
        return self.client.post(path, json=json, headers=self.headers)

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)

    def counter(self, number: int, action: str, json: Any = None) -> Any:
        return self.post(f"/api/v1/counters/{number}/{action}", json=json)


def log_in_as(client: FlaskClient, username: str) -> Staff:
    """A demo hall login (password "demo") on `client`."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": "demo"})
    assert response.status_code == 200, response.json
    return Staff(client, response.json["token"])


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str], Staff]:
    def log_in(username: str) -> Staff:
        return log_in_as(client, username)

    return log_in


@pytest.fixture
def clerk_at(login: Callable[[str], Staff]) -> Callable[[int], Staff]:
    """clerkNN signed into counter NN."""

    def sign_in(number: int) -> Staff:
        staff = login(f"clerk{number:02d}")
        response = staff.counter(number, "sign-in")
        assert response.status_code == 200, response.json
        return staff

    return sign_in


@pytest.fixture
def make_ticket(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    def issue(service: str = "employment", **fields: Any) -> dict[str, Any]:
        response = client.post("/api/v1/tickets", json={"service": service, **fields})
        assert response.status_code in (200, 201), response.json
        ticket: dict[str, Any] = response.json["ticket"]
        return ticket

    return issue
