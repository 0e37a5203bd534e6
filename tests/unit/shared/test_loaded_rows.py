"""`loaded`, `column_list`, `row_values`: a table model's row from a driver record and back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from shared.db import column_list, loaded, new_row, parameters, row_values


class TenantRow(SQLModel, table=True):
    __tablename__ = "loaded_rows"
    __table_args__ = {"schema": "unit_tests"}

    tenant_id: str = Field(primary_key=True)
    applied_revision: int = 0
    last_revision: int = 0
    deleted_revision: int = 0
    current_deployment_id: str | None = None
    inventory: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


AT = datetime(2026, 11, 27, tzinfo=UTC)
RECORD = {
    "tenant_id": "acme",
    "applied_revision": 2,
    "last_revision": 3,
    "deleted_revision": 0,
    "current_deployment_id": "auto-acme-r3",
    "inventory": [{"kind": "Namespace", "name": "acme"}],
    "updated_at": AT,
}


def test_a_loaded_row_has_the_records_values_and_takes_changes() -> None:
    row = loaded(TenantRow, RECORD)
    assert row.model_dump() == RECORD
    row.last_revision = 4
    assert row.last_revision == 4 and row.model_copy().last_revision == 4
    assert RECORD["last_revision"] == 3  # the record itself is not changed


def test_a_loaded_row_belongs_to_no_session() -> None:
    state = inspect(loaded(TenantRow, RECORD))
    assert state.session is None and not state.persistent


def test_a_rows_values_follow_its_column_list_with_json_as_text() -> None:
    row = loaded(TenantRow, {**RECORD, "current_deployment_id": None})
    assert column_list(TenantRow).split(", ") == list(RECORD)
    values = row_values(row)
    assert values[5] == '[{"kind":"Namespace","name":"acme"}]'
    assert values[4] is None and values[6] == AT
    assert parameters(TenantRow, {"inventory": [], "last_revision": 3}) == ["[]", 3]


def test_a_new_row_has_the_values_given_and_the_models_defaults() -> None:
    row = new_row(TenantRow, tenant_id="acme", inventory=[], updated_at=AT)
    assert row.model_dump() == {
        **RECORD,
        "applied_revision": 0,
        "last_revision": 0,
        "current_deployment_id": None,
        "inventory": [],
    }
    assert inspect(row).session is None


def test_a_new_row_needs_every_column_without_a_default() -> None:
    with pytest.raises(TypeError, match="updated_at"):
        new_row(TenantRow, tenant_id="acme", inventory=[])
