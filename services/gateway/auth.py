"""API keys: stored hashed, with a role and optionally one mode.

Demo mode may be used without a key; prod reads need `viewer`, prod writes `operator`, key
management `admin`. A key that is given must be valid, in either mode.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path

from services.gateway import store
from services.gateway.errors import Problem
from shared.db import Databases
from shared.modes import Mode

log = logging.getLogger(__name__)
KEY_PREFIX = "ecp_"


class Role(IntEnum):
    viewer = 1
    operator = 2
    admin = 3


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    mode: Mode | None  # None: both modes


ANONYMOUS_DEMO = Principal("anonymous", Role.operator, Mode.demo)
AUTH_DISABLED = Principal("auth-disabled", Role.admin, None)


def hash_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh key and its id (the id is safe to show and log)."""
    key_id = secrets.token_hex(4)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "UNAUTHORIZED", "Authorization must be 'Bearer <api key>'")
    return token.strip()


async def authenticate(db: Databases, token: str | None, mode: Mode, *, enabled: bool) -> Principal:
    if not enabled:
        return AUTH_DISABLED
    if token is None:
        if mode is Mode.demo:
            return ANONYMOUS_DEMO
        raise Problem(
            401, "UNAUTHORIZED", "prod mode needs an API key: Authorization: Bearer <key>"
        )
    async with db.connection(Mode.prod) as conn:
        row = await store.find_key(conn, hash_key(token))
    if row is None:
        raise Problem(401, "UNAUTHORIZED", "the API key is not valid or was revoked")
    return Principal(row.name, Role[row.role], Mode(row.mode) if row.mode else None)


def authorize(principal: Principal, mode: Mode, needed: Role) -> None:
    if principal.mode is not None and principal.mode is not mode:
        raise Problem(403, "FORBIDDEN", f"this API key is limited to {principal.mode} mode")
    if principal.role < needed:
        raise Problem(
            403,
            "FORBIDDEN",
            f"this needs the {needed.name} role; the key has {principal.role.name}",
        )


async def create_key(db: Databases, name: str, role: Role, mode: Mode | None) -> tuple[str, str]:
    key_id, key = new_key()
    async with db.session(Mode.prod) as session:
        session.add(
            store.ApiKeyRow(
                key_id=key_id,
                name=name,
                key_hash=hash_key(key),
                role=role.name,
                mode=mode.value if mode else None,
                created_at=datetime.now(UTC),
            )
        )
        await session.commit()
    log.info("api key created", extra={"key_id": key_id, "role": role.name})
    return key_id, key


async def bootstrap_admin_key(db: Databases, key_file: Path) -> None:
    """On a first start, create an admin key and leave it (only) in `key_file` for `ecp up`."""
    async with db.session(Mode.prod) as session:
        if await store.count_admin_keys(session):
            return
    _, key = await create_key(db, "bootstrap-admin", Role.admin, None)
    await asyncio.to_thread(_write_secret, key_file, key)


def _write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secret + "\n")
