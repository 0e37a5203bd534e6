"""Queries to other services over core NATS request/reply, with a deadline."""

from __future__ import annotations

import json
from typing import Any

from faststream.nats import NatsMessage
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel

from services.gateway.deps import Gateway
from services.gateway.errors import Problem
from shared import subjects
from shared.bus import CORRELATION_HEADER
from shared.logging import correlation_id
from shared.modes import Mode


async def ask(gateway: Gateway, mode: Mode, service: str, query: str, body: BaseModel) -> Any:
    return json.loads(await ask_raw(gateway, mode, service, query, body))


async def ask_raw(gateway: Gateway, mode: Mode, service: str, query: str, body: BaseModel) -> bytes:
    """The answer as the service wrote it (JSON)."""
    subject = subjects.rpc(mode, service, query)
    try:
        reply: NatsMessage = await gateway.broker.request(
            body.model_dump_json(),
            subject,
            timeout=gateway.settings.rpc_timeout_seconds,
            headers={
                CORRELATION_HEADER: correlation_id.get() or "",
                "content-type": "application/json",
            },
        )
    except NoRespondersError as error:
        raise Problem(
            503, "SERVICE_UNAVAILABLE", f"the {service} service is not running"
        ) from error
    except (TimeoutError, NatsTimeoutError) as error:
        raise Problem(
            504, "UPSTREAM_TIMEOUT", f"the {service} service did not answer in time"
        ) from error
    return bytes(reply.body)
