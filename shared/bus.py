"""The broker factory and the delivery rules every service follows.

- Streams CMD/EVT/METRICS/DLQ per mode are declared in one place (`declare_streams`).
- Commands and events are consumed by durable pull consumers (`durable_subscriber`).
- A failed handler is nacked with exponential back-off; after `max_deliver` tries the message
  goes to the mode's dead-letter subject and is acked (`DeliveryMiddleware`).
- Every publish carries `Nats-Msg-Id` and the correlation id (`publish`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from faststream import AckPolicy
from faststream._internal.middlewares import BaseMiddleware
from faststream.exceptions import AckMessage, HandlerException, NackMessage
from faststream.message import StreamMessage
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ValidationError

from shared import subjects
from shared.logging import correlation_id, new_correlation_id
from shared.modes import Mode
from shared.settings import Settings
from shared.telemetry import MESSAGES_DEAD_LETTERED, MESSAGES_HANDLED, MESSAGES_RETRIED

CORRELATION_HEADER = "X-Correlation-ID"
MSG_ID_HEADER = "Nats-Msg-Id"
DEAD_LETTER_SUBJECT_HEADER = "Ecp-Original-Subject"
DEAD_LETTER_ERROR_HEADER = "Ecp-Error"

log = logging.getLogger(__name__)


def retry_delay(attempt: int, settings: Settings) -> float:
    """Seconds before the next try after `attempt` failed tries (1-based), doubling to a cap."""
    return float(min(settings.retry_base_seconds * 2 ** (attempt - 1), settings.retry_max_seconds))


def carried_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers a republished message keeps: not the server's stream expectations."""
    return {k: v for k, v in headers.items() if not k.lower().startswith("nats-expected")}


def raw_messages(msg: StreamMessage[Any]) -> list[Any]:
    """The nats-py messages behind one FastStream message: several for a batch subscriber."""
    raw = msg.raw_message
    return list(raw) if isinstance(raw, list) else [raw]


def jetstream_attempt(raws: list[Any]) -> int | None:
    """How many times these messages were delivered; None for core NATS (request/reply)."""
    try:
        return max(int(raw.metadata.num_delivered) for raw in raws)
    except Exception:  # noqa: BLE001 - core NATS messages have no JetStream metadata
        return None


async def settle_failure(
    broker: NatsBroker,
    service: str,
    settings: Settings,
    raws: list[Any],
    attempt: int,
    exc: Exception,
) -> float | None:
    """After a handler failed on `raws`: the delay before the next try, or None when the
    messages were dead-lettered (their last try, or a contract they will never match)."""
    subject = raws[0].subject
    if attempt < settings.max_deliver and not isinstance(exc, ValidationError):
        delay = retry_delay(attempt, settings)
        MESSAGES_RETRIED.labels(service).inc(len(raws))
        log.warning(
            "handler failed, will retry",
            extra={
                "subject": subject,
                "messages": len(raws),
                "attempt": attempt,
                "retry_in_s": delay,
                "error": repr(exc),
            },
        )
        return delay
    error = f"{type(exc).__name__}: {exc}"[:500].replace("\n", " ")
    for raw in raws:
        mode = Mode(raw.subject.split(".")[1]) if raw.subject.startswith("ecp.") else Mode.prod
        await broker.publish(
            raw.data,
            subjects.dead_letter(mode, service),
            headers={
                **carried_headers(raw.headers or {}),
                MSG_ID_HEADER: f"dlq:{service}:{raw.metadata.stream}:{raw.metadata.sequence.stream}",
                DEAD_LETTER_SUBJECT_HEADER: raw.subject,
                DEAD_LETTER_ERROR_HEADER: error,
            },
            stream=subjects.stream_name(mode, "dlq"),
        )
    MESSAGES_DEAD_LETTERED.labels(service).inc(len(raws))
    log.error(
        "handler failed for the last time, message(s) dead-lettered",
        extra={"subject": subject, "messages": len(raws), "attempt": attempt, "error": repr(exc)},
    )
    return None


class DeliveryMiddleware(BaseMiddleware):
    """Sets the correlation id, counts outcomes, and turns a handler failure into a delayed nack
    or, after the last try, a dead letter."""

    def __init__(self, msg: Any, /, *, context: Any, service: str, settings: Settings) -> None:
        super().__init__(msg, context=context)
        self.service = service
        self.settings = settings

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        raws = raw_messages(msg)
        headers = (raws[0].headers if raws else None) or {}
        token = correlation_id.set(headers.get(CORRELATION_HEADER) or new_correlation_id())
        try:
            result = await call_next(msg)
        except HandlerException:
            raise
        except Exception as exc:
            attempt = jetstream_attempt(raws)
            if attempt is None:
                MESSAGES_HANDLED.labels(self.service, "error").inc()
                raise
            broker: NatsBroker = self.context.get("broker")
            delay = await settle_failure(broker, self.service, self.settings, raws, attempt, exc)
            if delay is not None:
                raise NackMessage(delay=delay) from exc
            raise AckMessage() from exc
        finally:
            correlation_id.reset(token)
        MESSAGES_HANDLED.labels(self.service, "ok").inc(len(raws))
        return result


def make_broker(settings: Settings, service: str) -> NatsBroker:
    return NatsBroker(
        settings.nats_url,
        name=f"ecp-{service}",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[partial(DeliveryMiddleware, service=service, settings=settings)],
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


def durable_subscriber(
    broker: NatsBroker,
    settings: Settings,
    *,
    subject: str,
    stream: str,
    durable: str,
    batch_size: int = 1,
    batch: bool = False,
    ack_wait_seconds: float | None = None,
) -> Any:
    """A durable pull consumer on `subject`, shared by every replica of the service."""
    return broker.subscriber(
        subject,
        stream=JStream(stream, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=batch_size, timeout=1.0, batch=batch),
        config=ConsumerConfig(
            durable_name=durable,
            filter_subject=subject,
            ack_wait=ack_wait_seconds or settings.ack_wait_seconds,
            # A backstop for a message that kills the process before the middleware sees it.
            max_deliver=settings.max_deliver + 2,
        ),
    )


async def publish(
    broker: NatsBroker,
    subject: str,
    message: BaseModel,
    *,
    msg_id: str,
    stream: str | None = None,
) -> Any:
    """Publish with the dedupe id and the correlation id of the work in hand."""
    cid = correlation_id.get() or new_correlation_id()
    started = time.perf_counter()
    ack = await broker.publish(
        message.model_dump_json(),
        subject,
        headers={
            MSG_ID_HEADER: msg_id,
            CORRELATION_HEADER: cid,
            "content-type": "application/json",
        },
        correlation_id=cid,
        stream=stream,
    )
    log.debug(
        "published",
        extra={
            "subject": subject,
            "msg_id": msg_id,
            "ms": round((time.perf_counter() - started) * 1e3, 2),
        },
    )
    return ack


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
