"""Typed dependencies of the routes: the gateway's state, the mode, the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request
from faststream.nats import NatsBroker

from services.gateway import store
from services.gateway.auth import Principal, Role, authenticate, authorize, bearer_token
from services.gateway.errors import Problem
from services.gateway.events import EventHub
from services.gateway.push_groups import PushGroups
from shared.db import Databases
from shared.modes import InvalidModeError, Mode, mode_from_header
from shared.service import ServiceRuntime
from shared.settings import Settings


def tenant_not_found(tenant_id: str) -> Problem:
    return Problem(404, "TENANT_NOT_FOUND", f"tenant {tenant_id!r} does not exist in this mode")


@dataclass
class Gateway:
    runtime: ServiceRuntime
    hub: EventHub
    pushes: PushGroups = field(default_factory=PushGroups)

    @property
    def broker(self) -> NatsBroker:
        return self.runtime.broker

    @property
    def db(self) -> Databases:
        return self.runtime.db

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


# Dependencies are `async def`: FastAPI runs a plain `def` one in its thread pool, two thread
# hand-offs for every request that uses it.
async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def header_mode(x_demo_mode: str | None) -> Mode:
    """The mode an `X-Demo-Mode` header asks for; a value that is not one is a 400."""
    try:
        return mode_from_header(x_demo_mode)
    except InvalidModeError as error:
        raise Problem(400, "INVALID_MODE", str(error)) from error


async def request_mode(x_demo_mode: Annotated[str | None, Header()] = None) -> Mode:
    return header_mode(x_demo_mode)


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
ModeDep = Annotated[Mode, Depends(request_mode)]


def require(role: Role):  # type: ignore[no-untyped-def]
    async def dependency(
        gateway: GatewayDep, mode: ModeDep, authorization: Annotated[str | None, Header()] = None
    ) -> Principal:
        principal = await authenticate(
            gateway.db, bearer_token(authorization), mode, enabled=gateway.settings.auth_enabled
        )
        authorize(principal, mode, role)
        return principal

    return Depends(dependency)


Viewer = Annotated[Principal, require(Role.viewer)]
Operator = Annotated[Principal, require(Role.operator)]
Admin = Annotated[Principal, require(Role.admin)]


async def require_live_tenant(gateway: Gateway, mode: Mode, tenant_id: str) -> None:
    """404 unless the tenant exists in this mode and is not deleted."""
    async with gateway.db.connection(mode) as conn:
        if not await store.is_live(conn, tenant_id):
            raise tenant_not_found(tenant_id)
