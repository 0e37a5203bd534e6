"""Accepting pushed samples, the seed's form and the batch form, and answering those two POSTs
before FastAPI routes them.

The push routes are the busiest by far: FastAPI's routing, dependency solving and body model cost
about twice what the push itself costs. `PushFastPath` answers a JSON POST to either route with
the same checks, errors and replies as the declared routes in `routes/monitoring.py`, which call
the same functions here, document the contract in `/docs`, and answer whatever else comes.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, TypeVar

import pydantic_core
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.auth import Role, authenticate, authorize, bearer_token
from services.gateway.deps import Gateway, header_mode
from services.gateway.errors import Problem, problem_response, unexpected_error_response
from services.gateway.samples import (
    BATCH_PUSH,
    SEED_PUSH,
    TENANTS,
    BatchPush,
    SeedPush,
    as_utc,
    publish_samples,
    read_batch_push,
    refuse,
    sample_of,
    shown,
    time_problem,
    value_problem,
)
from services.gateway.tracing import ROUTE_PATH_KEY
from shared.ids import unique_hex
from shared.modes import Mode

BATCH_PATH = "/api/v1/monitoring/batch"
TENANT_PREFIX, TENANT_SUFFIX = "/api/v1/tenants/", "/monitoring"
SEED_ROUTE = TENANT_PREFIX + "{tenant_id}" + TENANT_SUFFIX  # as routes/monitoring.py declares it
MAX_BODY_BYTES = 64 * 2**20
Body = TypeVar("Body")


async def pusher(gateway: Gateway, x_demo_mode: str | None, authorization: str | None) -> Mode:
    """The mode, after checking the caller may push in it (an operator's rights)."""
    mode = header_mode(x_demo_mode)
    principal = await authenticate(
        gateway.db, bearer_token(authorization), mode, enabled=gateway.settings.auth_enabled
    )
    authorize(principal, mode, Role.operator)
    return mode


def parsed(adapter: TypeAdapter[Body], raw: bytes) -> Body:
    """The body read straight from its bytes (twice as fast as parsing to Python first), with
    errors located as FastAPI locates them (`["body", ...]`)."""
    try:
        return adapter.validate_json(raw)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_input=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise Problem(
                400,
                "INVALID_JSON",
                "the request body is not valid JSON",
                errors=[
                    {
                        "loc": ["body", json_error_position(raw)],
                        "msg": "JSON decode error",
                        "type": "json_invalid",
                    }
                ],
            ) from error
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Problem(
            422,
            "VALIDATION_FAILED",
            f"{where}: {first['msg']}",
            errors=[
                {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in errors[:20]
            ],
        ) from error


def json_response(status_code: int, content: dict[str, Any]) -> Response:
    """`JSONResponse`, written by pydantic-core: the same compact UTF-8 JSON, faster than the
    standard library's encoder on the push path."""
    return Response(pydantic_core.to_json(content), status_code, media_type="application/json")


def json_error_position(raw: bytes) -> int:
    try:
        json.loads(raw)
    except ValueError as error:
        return error.pos if isinstance(error, json.JSONDecodeError) else 0
    return 0


async def accept_seed(gateway: Gateway, mode: Mode, tenant_id: str, body: SeedPush) -> Response:
    """The seed's push: one timestamp, a map of metric name to value."""
    now = datetime.now(UTC)
    moment = as_utc(body.timestamp, now)
    problems = [
        {"sample": f"metrics.{name}", "name": name, "value": shown(value), "reason": reason}
        for name, value in body.metrics.items()
        if (reason := value_problem(name, value))
    ]
    if reason := time_problem(moment, now, gateway.settings):
        problems.insert(0, {"sample": "timestamp", "name": "timestamp", "value": str(moment),
                            "reason": reason})  # fmt: skip
    if problems:
        raise refuse(problems)
    await TENANTS.require(gateway, mode, tenant_id)
    stamp = moment.isoformat()
    samples = [sample_of(n, v, stamp, body.labels) for n, v in body.metrics.items()]

    async def publish(batch_id: str, grouped: list[dict[str, Any]]) -> None:
        await publish_samples(gateway, mode, tenant_id, batch_id, grouped)

    batch_id = await gateway.pushes.push((mode, tenant_id), tenant_id, samples, publish)
    return json_response(
        status_code=202,
        content={
            "status": "accepted",
            "accepted": len(samples),
            "tenant_id": tenant_id,
            "batch_id": batch_id,
            "timestamp": stamp,
        },
    )


async def accept_batch(gateway: Gateway, mode: Mode, body: BatchPush) -> Response:
    """Samples of many pods of many tenants: one message per tenant."""
    now = datetime.now(UTC)
    by_tenant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    problems: list[dict[str, Any]] = []
    settings, default_tenant = gateway.settings, body.get("tenant_id")
    # A batch's samples mostly share a few timestamps: each is converted and checked once.
    moments: dict[datetime | None, tuple[str, str | None]] = {}
    for index, pushed in enumerate(body["samples"]):
        tenant_id = pushed.get("tenant_id") or default_tenant
        stamp = pushed.get("timestamp")
        known = moments.get(stamp)
        if known is None:
            moment = as_utc(stamp, now)
            known = moments[stamp] = (moment.isoformat(), time_problem(moment, now, settings))
        name, value = pushed["name"], pushed["value"]
        reason = (
            ("the sample names no tenant_id" if tenant_id is None else None)
            or value_problem(name, value)
            or known[1]
        )
        if reason:
            problems.append(
                {"sample": f"samples[{index}]", "name": name, "value": shown(value),
                 "tenant_id": tenant_id, "reason": reason}
            )  # fmt: skip
        elif tenant_id is not None:
            by_tenant[tenant_id].append(
                {"name": name, "value": value, "timestamp": known[0],
                 "labels": pushed.get("labels", {})}
            )  # fmt: skip
    if problems:
        raise refuse(problems)
    for tenant_id in by_tenant:
        await TENANTS.require(gateway, mode, tenant_id)
    request_id = unique_hex()
    batches = {tenant_id: f"push:{request_id}:{tenant_id}" for tenant_id in by_tenant}
    await asyncio.gather(
        *(publish_samples(gateway, mode, t, batches[t], s) for t, s in by_tenant.items())
    )
    return json_response(
        status_code=202,
        content={
            "status": "accepted",
            "accepted": len(body["samples"]),
            "batch_id": request_id,
            "tenants": [
                {"tenant_id": t, "batch_id": batches[t], "accepted": len(s)}
                for t, s in by_tenant.items()
            ],
        },
    )


class PushFastPath:
    """ASGI middleware: a JSON POST to a push route is answered here; the rest passes on."""

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app, self.gateway = app, gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = push_target(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "application/json").split(";")[0] != "application/json":
            await self.app(scope, receive, send)
            return
        # The route the request tracing counts it under (FastAPI's router would set `route`).
        scope[ROUTE_PATH_KEY] = SEED_ROUTE if target else BATCH_PATH
        try:
            response = await self.answer(target, headers, receive)
        except Problem as problem:
            response = problem_response(
                problem.status, problem.code, problem.detail, **problem.extra
            )
        except Exception as error:  # noqa: BLE001 - answered as every route answers it
            response = unexpected_error_response(error)
        await response(scope, receive, send)

    async def answer(self, tenant_id: str, headers: Headers, receive: Receive) -> Response:
        gateway = self.gateway
        mode = await pusher(gateway, headers.get("x-demo-mode"), headers.get("authorization"))
        raw = await read_body(receive)
        if tenant_id:
            return await accept_seed(gateway, mode, tenant_id, parsed(SEED_PUSH, raw))
        body = read_batch_push(raw) or parsed(BATCH_PUSH, raw)
        return await accept_batch(gateway, mode, body)


def push_target(scope: Scope) -> str | None:
    """ "" for the batch route, the tenant's id for the seed's route, None for anything else."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if path == BATCH_PATH:
        return ""
    if path.startswith(TENANT_PREFIX) and path.endswith(TENANT_SUFFIX):
        tenant_id = path[len(TENANT_PREFIX) : -len(TENANT_SUFFIX)]
        if tenant_id and "/" not in tenant_id:
            return tenant_id
    return None


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Problem(400, "BAD_REQUEST", "the client went away before sending the body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Problem(413, "PAYLOAD_TOO_LARGE", f"the body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)
