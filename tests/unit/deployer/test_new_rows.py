"""New rows are built as loaded rows are (no model `__init__`): they must hold every column, with
the values the model itself would give them."""

from __future__ import annotations

from services.deployer import store


def columns_of(row: object, names: list[str]) -> dict[str, object]:
    return {name: getattr(row, name) for name in names}


def test_a_new_tenant_has_every_column_the_model_would_give_it() -> None:
    row = store.new_tenant("acme")
    names = list(store.TenantRow.model_fields)
    expected = store.TenantRow(tenant_id="acme", updated_at=row.updated_at)
    assert set(vars(row)) >= set(names)
    assert columns_of(row, names) == columns_of(expected, names)


def test_a_new_deployment_has_every_column_the_model_would_give_it() -> None:
    row = store.new_deployment("auto-acme-r2-abc", "acme", 2, 2, "deploy", "auto")
    names = list(store.DeploymentRow.model_fields)
    expected = store.DeploymentRow(
        deployment_id="auto-acme-r2-abc",
        tenant_id="acme",
        revision=2,
        manifest_revision=2,
        kind="deploy",
        reason="auto",
        state="deploying",
        started_at=row.started_at,
    )
    assert set(vars(row)) >= set(names)
    assert columns_of(row, names) == columns_of(expected, names)
    assert not row.finished
