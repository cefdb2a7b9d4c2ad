"""The API fuzzed from its own document (issue 13): schemathesis generates requests for every
operation of `openapi.json`, anonymously and with a manager's token, a bounded number per
operation (FUZZ_EXAMPLES; a few minutes in all), and checks each answer: never a 5xx, its
status documented for that operation, its content type and its body as documented."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzzed_app(make_app: Callable[..., Flask]) -> Flask:
    # Generous login limit: the fuzzer would otherwise mostly see 429 (documented anyway).
    return make_app(LOGIN_RATE_LIMIT="1000 per minute")


@pytest.fixture
def api_schema(fuzzed_app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app)


schema = schemathesis.pytest.from_fixture("api_schema")


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymous_requests(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.fixture
def manager_token(fuzzed_app: Flask) -> str:
    login = fuzzed_app.test_client().post(
        "/api/v1/auth/login", json={"username": "manager", "password": "demo"}
    )
    return str(login.json["token"])  # type: ignore[index]


@schema.parametrize()
@FUZZ_SETTINGS
def test_a_managers_requests(case: Any, manager_token: str) -> None:
    if case.path == "/api/v1/auth/logout":
        return  # it would end the token the other examples use
    case.call_and_validate(headers={"Authorization": f"Bearer {manager_token}"}, checks=CHECKS)


@pytest.fixture
def admin_token(fuzzed_app: Flask) -> str:
    login = fuzzed_app.test_client().post(
        "/api/v1/auth/login", json={"username": "admin", "password": "demo"}
    )
    return str(login.json["token"])  # type: ignore[index]


@schema.include(tag="settings").parametrize()
@FUZZ_SETTINGS
def test_an_admins_settings_requests(case: Any, admin_token: str) -> None:
    """The hall settings change only for an admin: the manager's fuzz above meets only 403."""
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
