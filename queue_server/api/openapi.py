"""GET /api/v1/openapi.json, generated from the registered operations and their pydantic
models (never written by hand), and /healthz."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from sqlalchemy import text

from queue_server.api import OPERATIONS, Operation, api, error_response
from queue_server.api.schemas import ErrorOut, HealthDownOut, HealthOut
from queue_server.app_context import yihao

health = Blueprint("health", __name__)

REF = "#/components/schemas/{model}"


@health.get("/healthz")
def healthz() -> Any:
    """200 `ok`, or `degraded` while the message-queue Redis cannot be reached (this process
    still serves its own clients); 503 `down` while the database cannot be."""
    extension = yihao()
    watch = extension.message_queue_watch
    message_queue = watch.check() if watch is not None else None
    try:
        with extension.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any database failure means "not healthy"
        body, _ = error_response(503, "database_unavailable", str(error).splitlines()[0])
        return {
            "status": "down",
            "database": "down",
            "message_queue": message_queue,
            **body,
        }, 503
    status = "degraded" if message_queue == "down" else "ok"
    return {"status": status, "database": "ok", "message_queue": message_queue}


def openapi_document() -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorOut, HealthOut, HealthDownOut}
    for op in OPERATIONS:
        models.update(model for model in (op.body, op.response) if model is not None)
    _, top = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault("/api/v1" + op.path, {})[op.method] = _describe(op)
    paths["/api/v1/openapi.json"] = {
        "get": {
            "summary": "This document (OpenAPI 3.1)",
            "tags": ["meta"],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    paths["/healthz"] = {
        "get": {
            "summary": "Server and database health",
            "tags": ["health"],
            "responses": {
                "200": _json(HealthOut),
                "503": dict(_json(HealthDownOut), description="The database cannot be reached"),
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Yihao (一号) queue server API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _json(
    model: type[BaseModel], as_list: bool = False, content_type: str = "application/json"
) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": REF.format(model=model.__name__)}
    if as_list:
        schema = {"type": "array", "items": schema}
    return {"description": "OK", "content": {content_type: {"schema": schema}}}


def _describe(op: Operation) -> dict[str, Any]:
    described: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "responses": {}}
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if name == "n" else "string"},
        }
        for name in _path_names(op.path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, field_schema in schema.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": field_schema}
            )
    if parameters:
        described["parameters"] = parameters
    if op.body is not None:
        described["requestBody"] = {
            "required": bool(op.body.model_json_schema().get("required")),
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}
            },
        }
    for status in (op.status, *op.also):
        if op.response is not None:
            answer = _json(op.response, op.response_list, op.content_type)
        else:  # a file: the PNG ticket, the CSV report
            schema = {"type": "string", "contentMediaType": op.content_type}
            answer = {"description": "OK", "content": {op.content_type: {"schema": schema}}}
        described["responses"][str(status)] = answer
    for status in op.errors:
        described["responses"][str(status)] = dict(_json(ErrorOut), description="Error")
    if op.auth:
        described["security"] = [{"bearer": []}]
    return described


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


@api.get("/openapi.json")
def openapi_json() -> Any:
    return openapi_document()
