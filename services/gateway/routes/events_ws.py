"""`WS /ws/events`: the mode's events as they happen, optionally for one tenant
(`?tenant_id=`) and only some events (`?events=deployment.succeeded,alert.*`). The socket opens
once the gateway is subscribed to them; a filter that is no tenant id or no event names is
refused.

Browsers cannot set headers on a WebSocket, so the mode and the key may also come as query
parameters (`?demo=true`, `?api_key=...`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from services.gateway.auth import Role, authenticate, authorize, bearer_token
from services.gateway.deps import Gateway
from services.gateway.errors import Problem
from services.gateway.events import BrokerUnavailableError, InvalidFilterError, Subscriber
from shared.modes import InvalidModeError, Mode, mode_from_header

router = APIRouter()
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


async def caller_mode(websocket: WebSocket) -> Mode | None:
    """The mode of an authorised caller, or None after refusing the socket with the reason."""
    gateway: Gateway = websocket.app.state.gateway
    params = websocket.query_params
    try:
        mode = mode_from_header(params.get("demo") or websocket.headers.get("x-demo-mode"))
        token = params.get("api_key") or bearer_token(websocket.headers.get("authorization"))
        principal = await authenticate(
            gateway.db, token, mode, enabled=gateway.settings.auth_enabled
        )
        authorize(principal, mode, Role.viewer)
    except (InvalidModeError, Problem) as error:
        await websocket.close(code=POLICY_VIOLATION, reason=str(error)[:120])
        return None
    return mode


async def accept_caller(websocket: WebSocket) -> Mode | None:
    """`caller_mode`, the socket accepted."""
    mode = await caller_mode(websocket)
    if mode is not None:
        await websocket.accept()
    return mode


def event_names(params: Mapping[str, str]) -> frozenset[str] | None:
    wanted = frozenset(n.strip() for n in params.get("events", "").split(",") if n.strip())
    return wanted or None


@router.websocket("/ws/events")
async def events(websocket: WebSocket) -> None:
    mode = await caller_mode(websocket)
    if mode is None:
        return
    gateway: Gateway = websocket.app.state.gateway
    params = websocket.query_params
    try:
        # Before the socket opens: what happens once the client sees it open reaches it.
        subscriber = await gateway.hub.subscribe(mode, params.get("tenant_id"), event_names(params))
    except InvalidFilterError as error:
        await websocket.close(code=POLICY_VIOLATION, reason=str(error)[:120])
        return
    except BrokerUnavailableError as error:
        # Opened to be closed: a refusal before opening reaches the client as a bare 403.
        await websocket.accept()
        await websocket.close(code=TRY_AGAIN_LATER, reason=str(error))
        return

    try:
        await websocket.accept()
        await send_events(websocket, subscriber)
    finally:
        await gateway.hub.unsubscribe(subscriber)


async def send_events(websocket: WebSocket, subscriber: Subscriber) -> None:
    """The subscriber's events to the client, until it leaves or stops reading."""

    async def ignore_incoming() -> None:
        while True:
            await websocket.receive_text()

    reader = asyncio.create_task(ignore_incoming())
    try:
        while not reader.done():
            if subscriber.queue.empty():
                getter = asyncio.create_task(subscriber.queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                message = getter.result()
            else:
                message = subscriber.queue.get_nowait()  # no task per event while they queue up
            await websocket.send_json(message)
            if subscriber.overflowed:
                await websocket.close(code=TRY_AGAIN_LATER, reason="too slow: events were not read")
                break
    except WebSocketDisconnect:
        pass
    finally:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
