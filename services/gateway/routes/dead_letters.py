"""`/api/v1/dead-letters`: messages a service gave up on, for an admin to read and replay."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query
from nats.js.errors import NotFoundError
from pydantic import BaseModel

from services.gateway.deps import Admin, GatewayDep, ModeDep
from services.gateway.errors import Problem
from shared import subjects
from shared.bus import (
    DEAD_LETTER_ERROR_HEADER,
    DEAD_LETTER_SUBJECT_HEADER,
    MSG_ID_HEADER,
    carried_headers,
    jetstream,
)

router = APIRouter(prefix="/api/v1/dead-letters", tags=["operations"])


class DeadLetter(BaseModel):
    sequence: int
    service: str
    original_subject: str
    error: str
    body: Any


class Replayed(BaseModel):
    sequence: int
    republished_to: str


def _body(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


@router.get("/", response_model=list[DeadLetter])
async def list_dead_letters(
    gateway: GatewayDep, mode: ModeDep, _: Admin, limit: int = Query(100, ge=1, le=1000)
) -> list[DeadLetter]:
    js = jetstream(gateway.broker)
    stream = subjects.stream_name(mode, "dlq")
    info = await js.stream_info(stream)
    letters: list[DeadLetter] = []
    sequence = info.state.first_seq
    while sequence and sequence <= info.state.last_seq and len(letters) < limit:
        try:
            raw = await js.get_msg(stream, sequence)
        except NotFoundError:
            sequence += 1
            continue
        headers = raw.headers or {}
        letters.append(
            DeadLetter(
                sequence=sequence,
                service=(raw.subject or "").rsplit(".", 1)[-1],
                original_subject=headers.get(DEAD_LETTER_SUBJECT_HEADER, ""),
                error=headers.get(DEAD_LETTER_ERROR_HEADER, ""),
                body=_body(raw.data or b""),
            )
        )
        sequence += 1
    return letters


@router.post("/{sequence}/replay", response_model=Replayed)
async def replay(sequence: int, gateway: GatewayDep, mode: ModeDep, _: Admin) -> Replayed:
    """Publish the message again to its original subject, then remove it from the dead letters."""
    js = jetstream(gateway.broker)
    stream = subjects.stream_name(mode, "dlq")
    try:
        raw = await js.get_msg(stream, sequence)
    except NotFoundError as error:
        raise Problem(
            404, "DEAD_LETTER_NOT_FOUND", f"no dead letter {sequence} in {mode} mode"
        ) from error
    headers = carried_headers(dict(raw.headers or {}))
    original = headers.pop(DEAD_LETTER_SUBJECT_HEADER, "")
    headers.pop(DEAD_LETTER_ERROR_HEADER, None)
    if not original.startswith(f"ecp.{mode}."):
        raise Problem(
            409, "DEAD_LETTER_UNREPLAYABLE", "the dead letter names no subject of this mode"
        )
    headers[MSG_ID_HEADER] = f"replay:{stream}:{sequence}"
    await js.publish(original, raw.data or b"", headers=headers)
    await js.delete_msg(stream, sequence)
    return Replayed(sequence=sequence, republished_to=original)
