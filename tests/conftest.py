"""Shared fixtures: an app on a real database (a SQLite file, and PostgreSQL when
YIHAO_TEST_POSTGRES_URL is set), a controllable clock, staff logins and a ticket factory."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from queue_server import create_app
from queue_server.db import normalise_url

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


@pytest.fixture(params=database_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.fail("CI=true needs YIHAO_TEST_POSTGRES_URL: PostgreSQL tests must run in CI")
        reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'yihao.sqlite3'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app_config(database_url: str, clock: FakeClock, tmp_path: Path) -> dict[str, Any]:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "CLOCK": clock,
        "TESTING": True,
        "INSTANCE_DIR": str(tmp_path / "instance"),
    }


@pytest.fixture
def make_app(app_config: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Apps on the test database with settings changed; their connections closed after."""
    made: list[Flask] = []

    def build(**changes: Any) -> Flask:
        application = create_app({**app_config, **changes})
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


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str], Staff]:
    def log_in(username: str) -> Staff:
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": "demo"}
        )
        assert response.status_code == 200, response.json
        return Staff(client, response.json["token"])

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
