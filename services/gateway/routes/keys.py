"""`/api/v1/keys`: API keys for admins. A key is shown once, when it is made."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.gateway import store
from services.gateway.auth import Role, create_key
from services.gateway.deps import Admin, GatewayDep
from services.gateway.errors import Problem
from shared.modes import Mode

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["viewer", "operator", "admin"] = "viewer"
    mode: Mode | None = None


class KeyPublic(BaseModel):
    key_id: str
    name: str
    role: str
    mode: str | None
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    api_key: str


@router.post("/", status_code=201, response_model=KeyCreated)
async def create(body: KeyCreate, gateway: GatewayDep, _: Admin) -> KeyCreated:
    key_id, key = await create_key(gateway.db, body.name, Role[body.role], body.mode)
    return KeyCreated(
        key_id=key_id,
        name=body.name,
        role=body.role,
        mode=body.mode,
        created_at=datetime.now(UTC),
        revoked_at=None,
        api_key=key,
    )


@router.get("/", response_model=list[KeyPublic])
async def list_keys(gateway: GatewayDep, _: Admin) -> list[KeyPublic]:
    async with gateway.db.session(Mode.prod) as session:
        rows = await store.list_keys(session)
    return [KeyPublic.model_validate(row, from_attributes=True) for row in rows]


@router.delete("/{key_id}", response_model=KeyPublic)
async def revoke(key_id: str, gateway: GatewayDep, _: Admin) -> KeyPublic:
    async with gateway.db.session(Mode.prod) as session:
        row = await session.get(store.ApiKeyRow, key_id)
        if row is None:
            raise Problem(404, "KEY_NOT_FOUND", f"no API key {key_id!r}")
        row.revoked_at = row.revoked_at or datetime.now(UTC)
        await session.commit()
        return KeyPublic.model_validate(row, from_attributes=True)
