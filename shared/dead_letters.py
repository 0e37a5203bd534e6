"""Moving a message that cannot be handled to its mode's dead-letter subject, where an admin can
list and replay it (`/api/v1/dead-letters`)."""

from __future__ import annotations

from nats.aio.msg import Msg

from shared import subjects
from shared.bus import (
    DEAD_LETTER_ERROR_HEADER,
    DEAD_LETTER_SUBJECT_HEADER,
    MSG_ID_HEADER,
    carried_headers,
    jetstream,
)
from shared.modes import Mode
from shared.service import ServiceRuntime
from shared.telemetry import MESSAGES_DEAD_LETTERED


async def dead_letter(runtime: ServiceRuntime, batch: list[Msg], exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:500].replace("\n", " ")
    for msg in batch:
        mode = Mode(msg.subject.split(".")[1]) if msg.subject.startswith("ecp.") else Mode.prod
        await jetstream(runtime.broker).publish(
            subjects.dead_letter(mode, runtime.name),
            msg.data,
            headers={
                **carried_headers(msg.headers or {}),
                MSG_ID_HEADER: f"dlq:{runtime.name}:{msg.metadata.stream}:{msg.metadata.sequence.stream}",
                DEAD_LETTER_SUBJECT_HEADER: msg.subject,
                DEAD_LETTER_ERROR_HEADER: error,
            },
            stream=subjects.stream_name(mode, "dlq"),
        )
    MESSAGES_DEAD_LETTERED.labels(runtime.name).inc(len(batch))
