"""The base every message on the bus shares: a schema version and strict fields."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field


def utc_now() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """A message on the bus. Unknown fields are kept out so a typo never travels silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = 1


class TenantMessage(Contract):
    """A command or event about one tenant at one revision of its spec."""

    tenant_id: str
    revision: int = Field(ge=1)
    occurred_at: datetime = Field(default_factory=utc_now)
