"""The alerts service's tables (schema `alerts`): rules, their state, history, silences, and the
notification outbox with every delivery attempt."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import BigInteger, Column, DateTime, Identity, UniqueConstraint, delete, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from shared.db import json_text

SCHEMA = "alerts"


def _at(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSONB, nullable=False))


class RuleRow(SQLModel, table=True):
    __tablename__ = "rules"
    __table_args__ = (UniqueConstraint("tenant_id", "alert_name"), {"schema": SCHEMA})

    rule_id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(index=True, max_length=63)
    alert_name: str
    body: dict[str, Any] = _json(dict)  # the RuleBody as given, secrets included
    is_default: bool = False
    created_at: datetime = _at()
    updated_at: datetime = _at()


class RuleStateRow(SQLModel, table=True):
    __tablename__ = "rule_states"
    __table_args__ = {"schema": SCHEMA}

    rule_id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(max_length=63)
    state: dict[str, Any] = _json(dict)  # RuleState.to_dict()
    value: float | None = None
    repeat: int = 0  # repeats sent in the current firing episode
    last_notified_at: datetime | None = _at(nullable=True)
    updated_at: datetime = _at()


class HistoryRow(SQLModel, table=True):
    __tablename__ = "history"
    __table_args__ = (UniqueConstraint("rule_id", "sequence", "status"), {"schema": SCHEMA})

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    tenant_id: str = Field(index=True, max_length=63)
    rule_id: str
    alert_name: str
    status: str  # firing | resolved
    sequence: int
    fingerprint: str
    condition: str
    value: float | None = None
    labels: dict[str, str] = _json(dict)
    at: datetime = _at()
    active_since: datetime | None = _at(nullable=True)
    fired_at: datetime | None = _at(nullable=True)
    published_at: datetime | None = _at(nullable=True)


class NotificationRow(SQLModel, table=True):
    """The outbox: one row per (rule, episode, status, repeat, action), delivered at most once."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("rule_id", "sequence", "status", "repeat", "action_index"),
        {"schema": SCHEMA},
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    tenant_id: str = Field(index=True, max_length=63)
    rule_id: str
    alert_name: str
    sequence: int
    status: str  # firing | resolved
    repeat: int = 0
    action_index: int
    action_type: str  # webhook | email
    target: str  # URL or recipients, for the log
    action: dict[str, Any] = _json(dict)  # with the secret: never answered as is
    payload: dict[str, Any] = _json(dict)
    state: str = Field(index=True)  # pending | delivered | failed | dead | silenced
    attempts: int = 0
    next_attempt_at: datetime = _at()
    last_error: str | None = None
    silence_id: str | None = None
    created_at: datetime = _at()
    delivered_at: datetime | None = _at(nullable=True)


class AttemptRow(SQLModel, table=True):
    __tablename__ = "notification_attempts"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    notification_id: int = Field(index=True)
    tenant_id: str = Field(max_length=63)
    attempt: int
    at: datetime = _at()
    outcome: str  # delivered | retry | failed | dead
    status_code: int | None = None
    error: str | None = None
    duration_ms: float = 0.0


class SilenceRow(SQLModel, table=True):
    __tablename__ = "silences"
    __table_args__ = {"schema": SCHEMA}

    silence_id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(index=True, max_length=63)
    matchers: list[dict[str, Any]] = _json(list)
    starts_at: datetime = _at()
    ends_at: datetime = _at()
    comment: str = ""
    created_by: str = ""
    created_at: datetime = _at()


async def rules_of(session: AsyncSession, tenant_id: str | None = None) -> list[RuleRow]:
    statement = select(RuleRow).order_by(col(RuleRow.tenant_id), col(RuleRow.created_at))
    if tenant_id is not None:
        statement = statement.where(col(RuleRow.tenant_id) == tenant_id)
    return list((await session.execute(statement)).scalars())


async def put_default_rules(
    conn: asyncpg.Connection, tenant_id: str, bodies: list[dict[str, Any]], now: datetime
) -> list[tuple[str, dict[str, Any]]]:
    """Create the tenant's default rules, or move those still as a preset made them; a rule a
    user changed (no longer default) stays. One statement, in SQL on the driver connection (every
    sized tenant runs it; as an ORM multi-row insert it was compiled anew each time); returns
    (rule_id, body) of each rule made or moved."""
    if not bodies:
        return []
    # A new id each time: history and notifications are keyed by (rule, episode), so a rule
    # made again after its tenant was deleted must not reuse the old id.
    rules = [{"rule_id": f"r-{uuid.uuid4().hex[:16]}", "body": body} for body in bodies]
    records = await conn.fetch(
        f"""INSERT INTO {SCHEMA}.rules
          (rule_id, tenant_id, alert_name, body, is_default, created_at, updated_at)
        SELECT rule.rule_id, $1, rule.body ->> 'alert_name', rule.body, true, $3, $3
        FROM jsonb_to_recordset($2::jsonb) AS rule(rule_id text, body jsonb)
        ON CONFLICT (tenant_id, alert_name) DO UPDATE SET body = excluded.body, updated_at = $3
        WHERE {SCHEMA}.rules.is_default AND {SCHEMA}.rules.body IS DISTINCT FROM excluded.body
        RETURNING rule_id, body""",
        tenant_id,
        json_text(rules),
        now,
    )
    return [(record["rule_id"], record["body"]) for record in records]


async def find_rule(
    session: AsyncSession, tenant_id: str, key: str, *, for_update: bool = False
) -> RuleRow | None:
    """A rule by id or by alert name."""
    statement = select(RuleRow).where(
        col(RuleRow.tenant_id) == tenant_id,
        (col(RuleRow.rule_id) == key) | (col(RuleRow.alert_name) == key),
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalars().first()


async def states_of(session: AsyncSession) -> list[RuleStateRow]:
    return list((await session.execute(select(RuleStateRow))).scalars())


async def delete_rule(session: AsyncSession, rule_id: str) -> None:
    await session.execute(delete(RuleStateRow).where(col(RuleStateRow.rule_id) == rule_id))
    await session.execute(delete(RuleRow).where(col(RuleRow.rule_id) == rule_id))


async def delete_tenant(session: AsyncSession, tenant_id: str) -> None:
    """A deleted tenant's rules, their states and its silences; history and notifications stay."""
    for table in (RuleStateRow, RuleRow, SilenceRow):
        await session.execute(delete(table).where(col(table.tenant_id) == tenant_id))


async def active_silences(session: AsyncSession, tenant_id: str, at: datetime) -> list[SilenceRow]:
    result = await session.execute(
        select(SilenceRow).where(
            col(SilenceRow.tenant_id) == tenant_id,
            col(SilenceRow.starts_at) <= at,
            col(SilenceRow.ends_at) > at,
        )
    )
    return list(result.scalars())
