"""The broker factory, the streams, and publishing.

- Streams CMD/EVT/METRICS/DLQ per mode are declared in one place (`declare_streams`).
- Every publish carries `Nats-Msg-Id` and the correlation id (`publish`).
- Consuming JetStream work, with retries and dead letters, is `shared.consumers`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from faststream import AckPolicy
from faststream._internal.middlewares import BaseMiddleware
from faststream.message import StreamMessage
from faststream.nats import NatsBroker
from nats.errors import NoRespondersError
from nats.js.api import Header, PubAck, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import APIError, NoStreamResponseError, NotFoundError
from pydantic import BaseModel

from shared import subjects
from shared.logging import correlation_id, new_correlation_id
from shared.modes import Mode
from shared.settings import Settings
from shared.telemetry import MESSAGES_HANDLED

CORRELATION_HEADER = "X-Correlation-ID"
MSG_ID_HEADER = "Nats-Msg-Id"
DEAD_LETTER_SUBJECT_HEADER = "Ecp-Original-Subject"
DEAD_LETTER_ERROR_HEADER = "Ecp-Error"

log = logging.getLogger(__name__)
ACK_WAIT_SECONDS = 10.0  # for the acks of unacked publishes


def retry_delay(attempt: int, settings: Settings) -> float:
    """Seconds before the next try after `attempt` failed tries (1-based), doubling to a cap."""
    return float(min(settings.retry_base_seconds * 2 ** (attempt - 1), settings.retry_max_seconds))


def carried_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers a republished message keeps: not the server's stream expectations."""
    return {k: v for k, v in headers.items() if not k.lower().startswith("nats-expected")}


class DeliveryMiddleware(BaseMiddleware):
    """For the core NATS subscribers (request/reply, relays): the correlation id of the request
    for the handler's logs, and the outcome counted. JetStream work goes through
    `shared.consumers`."""

    def __init__(self, msg: Any, /, *, context: Any, service: str) -> None:
        super().__init__(msg, context=context)
        self.service = service

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        headers = msg.headers or {}
        token = correlation_id.set(headers.get(CORRELATION_HEADER) or new_correlation_id())
        try:
            result = await call_next(msg)
        except Exception:
            MESSAGES_HANDLED.labels(self.service, "error").inc()
            raise
        finally:
            correlation_id.reset(token)
        MESSAGES_HANDLED.labels(self.service, "ok").inc()
        return result


def make_broker(settings: Settings, service: str) -> NatsBroker:
    return NatsBroker(
        settings.nats_url,
        name=f"ecp-{service}",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[partial(DeliveryMiddleware, service=service)],
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        graceful_timeout=10.0,
        log_level=logging.DEBUG,
    )


async def declare_streams(broker: NatsBroker, settings: Settings) -> None:
    """Create or update every stream of both modes; safe to run from every service at start."""
    js = broker.connection.jetstream()
    for mode in Mode:
        for stream in subjects.streams(mode, settings.metrics_stream_max_age_seconds):
            config = StreamConfig(
                name=stream.name,
                subjects=list(stream.subjects),
                duplicate_window=settings.duplicate_window_seconds,
                max_age=stream.max_age_seconds,
            )
            try:
                await js.stream_info(stream.name)
            except NotFoundError:
                try:
                    await js.add_stream(config)
                    continue
                except Exception:  # noqa: BLE001 - another service created it meanwhile
                    log.debug("stream %s created concurrently", stream.name)
            await js.update_stream(config)


async def publish(
    broker: NatsBroker,
    subject: str,
    message: BaseModel,
    *,
    msg_id: str,
    stream: str | None = None,
) -> Any:
    """Publish with the dedupe id and the correlation id of the work in hand, and wait for the
    stream's ack. Straight to nats-py: FastStream's publish path costs more than the publish."""
    started = time.perf_counter()
    ack = await jetstream(broker).publish(
        subject, message.model_dump_json().encode(), stream=stream, headers=headers(msg_id)
    )
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "published",
            extra={
                "subject": subject,
                "msg_id": msg_id,
                "ms": round((time.perf_counter() - started) * 1e3, 2),
            },
        )
    return ack


async def publish_event_unacked(
    broker: NatsBroker, mode: Mode, tenant_id: str, name: str, message: BaseModel, *, msg_id: str
) -> asyncio.Future[PubAck]:
    """Publish an event without waiting for its ack: events published this way keep their order,
    and the caller awaits the acks together (`acked`) before it reports its work done."""
    aggregate, event_name = name.split(".", 1)
    return await jetstream(broker).publish_async(
        subjects.event(mode, tenant_id, aggregate, event_name),
        message.model_dump_json().encode(),
        stream=subjects.stream_name(mode, "evt"),
        headers=headers(msg_id),
    )


async def acked(futures: list[asyncio.Future[PubAck]]) -> None:
    """Wait for the acks of unacked publishes; a missing or refused ack raises."""
    if futures:
        await asyncio.wait_for(asyncio.gather(*futures), ACK_WAIT_SECONDS)


def headers(msg_id: str, correlation: str | None = None) -> dict[str, str]:
    """What every published message carries: its dedupe id and the correlation id of the work in
    hand (a new one outside any)."""
    return {
        MSG_ID_HEADER: msg_id,
        CORRELATION_HEADER: correlation or correlation_id.get() or new_correlation_id(),
        "content-type": "application/json",
    }


def jetstream(broker: NatsBroker) -> JetStreamContext:
    """The connection's JetStream context, made once: a busy path does not build one per
    publish, and async publishes need the reply inbox it makes on first use."""
    connection = broker.connection
    context = _contexts.get(connection)
    if context is None:
        context = _contexts[connection] = connection.jetstream()
    return context


async def publish_acked(
    connection: Any,
    subject: str,
    payload: bytes,
    *,
    headers: dict[str, str],
    stream: str,
    ack_wait_seconds: float,
) -> None:
    """`JetStreamContext.publish` for a caller that never reads the ack: the same request and
    errors, without parsing every ack into a `PubAck` (measurable on the push path)."""
    sent = {**headers, Header.EXPECTED_STREAM: stream}
    try:
        reply = await connection.request(subject, payload, timeout=ack_wait_seconds, headers=sent)
    except NoRespondersError as error:
        raise NoStreamResponseError from error
    if b'"error"' in reply.data:
        answer = json.loads(reply.data)
        if "error" in answer:
            raise APIError.from_error(answer["error"])


_contexts: weakref.WeakKeyDictionary[Any, JetStreamContext] = weakref.WeakKeyDictionary()


async def publish_event(
    broker: NatsBroker, mode: Mode, tenant_id: str, name: str, message: BaseModel, *, msg_id: str
) -> Any:
    aggregate, event_name = name.split(".", 1)
    return await publish(
        broker,
        subjects.event(mode, tenant_id, aggregate, event_name),
        message,
        msg_id=msg_id,
        stream=subjects.stream_name(mode, "evt"),
    )


async def publish_command(
    broker: NatsBroker, mode: Mode, tenant_id: str, name: str, message: BaseModel, *, msg_id: str
) -> Any:
    aggregate, verb = name.split(".", 1)
    return await publish(
        broker,
        subjects.command(mode, tenant_id, aggregate, verb),
        message,
        msg_id=msg_id,
        stream=subjects.stream_name(mode, "cmd"),
    )
