"""Alert events: a rule's transition to firing or resolved."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.contracts.base import Contract


class AlertTransition(Contract):
    """`alert.firing` / `alert.resolved`. (rule_id, sequence, status) identifies it once."""

    tenant_id: str
    rule_id: str
    alert_name: str
    status: str  # firing | resolved
    sequence: int
    fingerprint: str
    condition: str
    value: float | None = None
    active_since: datetime | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    revision: int = 0  # events carry a revision; alerts have none
