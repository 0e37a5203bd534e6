"""The rules rpc (`ecp.<mode>.rpc.alerts.rules`, and `export`): each change checked and stored in
one transaction, then handed to the mode's evaluator."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.alerts import store
from services.alerts.engine import Evaluator
from services.alerts.export import export_yaml
from services.alerts.replies import iso, ok
from services.alerts.rules import (
    Rule,
    RuleBody,
    RuleProblem,
    compile_rule,
    keep_masked_secrets,
    masked_actions,
    read_body,
)
from services.alerts.safety import ForbiddenWebhookError, check_webhook_url
from shared.settings import Settings


def rule_of(row: store.RuleRow) -> Rule:
    return compile_rule(
        row.rule_id, row.tenant_id, RuleBody.model_validate(row.body), row.is_default
    )


class RuleApi:
    """One mode's rules: list, create, get, update, patch, delete, export."""

    def __init__(self, evaluator: Evaluator, settings: Settings) -> None:
        self.evaluator, self.settings = evaluator, settings
        self.db, self.mode = evaluator.db, evaluator.mode

    def rule_answer(self, row: store.RuleRow) -> dict[str, Any]:
        body = RuleBody.model_validate(row.body)
        tracked = self.evaluator.rules.get(row.tenant_id, {}).get(row.rule_id)
        state = tracked.state if tracked else None
        return {
            "rule_id": row.rule_id,
            "tenant_id": row.tenant_id,
            **body.model_dump(exclude={"actions"}),
            "actions": masked_actions([a.model_dump() for a in body.actions]),
            "default": row.is_default,
            "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at),
            "state": {
                "status": state.status.value if state else "inactive",
                "sequence": state.sequence if state else 0,
                "active_since": iso(state.active_since) if state else None,
                "fired_at": iso(state.fired_at) if state else None,
                "value": tracked.value if tracked else None,
            },
        }

    async def checked(
        self, rule_id: str, tenant_id: str, data: Any, is_default: bool
    ) -> tuple[RuleBody, Rule]:
        body = read_body(data)
        rule = compile_rule(rule_id, tenant_id, body, is_default)
        for index, action in enumerate(rule.actions):
            if action["type"] != "webhook":
                continue
            try:
                await check_webhook_url(action["url"], self.settings.webhook_allowed_hosts)
            except ForbiddenWebhookError as error:
                raise RuleProblem(
                    422, "WEBHOOK_URL_FORBIDDEN", str(error), field=f"actions.{index}.url"
                ) from None
        return body, rule

    async def rules(self, request: dict[str, Any]) -> dict[str, Any]:
        op, tenant_id = request.get("op"), str(request.get("tenant_id", ""))
        key, data = request.get("key"), request.get("body")
        if op == "list":
            async with self.db.session(self.mode) as session:
                rows = await store.rules_of(session, tenant_id)
            answers = [self.rule_answer(r) for r in rows]
            return ok({"tenant_id": tenant_id, "rules": answers, "total_count": len(answers)})
        if op == "create":
            return await self.create_rule(tenant_id, data)
        if op in ("get", "update", "patch", "delete") and isinstance(key, str):
            return await getattr(self, f"{op}_rule")(tenant_id, key, data)
        raise RuleProblem(400, "BAD_REQUEST", f"unknown rules operation {op!r}")

    async def create_rule(
        self, tenant_id: str, data: Any, is_default: bool = False
    ) -> dict[str, Any]:
        rule_id = f"r-{uuid.uuid4().hex[:16]}"
        body, rule = await self.checked(rule_id, tenant_id, data, is_default)
        now = datetime.now(UTC)
        row = store.RuleRow(
            rule_id=rule_id,
            tenant_id=tenant_id,
            alert_name=body.alert_name,
            body=body.model_dump(mode="json"),
            is_default=is_default,
            created_at=now,
            updated_at=now,
        )
        async with self.db.session(self.mode) as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                raise RuleProblem(
                    409,
                    "ALERT_RULE_EXISTS",
                    f"tenant {tenant_id!r} already has a rule {body.alert_name!r}",
                ) from None
        self.evaluator.put_rule(rule)
        return ok(self.rule_answer(row), 201)

    async def get_rule(self, tenant_id: str, key: str, _: Any = None) -> dict[str, Any]:
        async with self.db.session(self.mode) as session:
            row = await store.find_rule(session, tenant_id, key)
        if row is None:
            raise self.missing(tenant_id, key)
        return ok(self.rule_answer(row))

    def missing(self, tenant_id: str, key: str) -> RuleProblem:
        return RuleProblem(
            404, "ALERT_RULE_NOT_FOUND", f"tenant {tenant_id!r} has no alert rule {key!r}"
        )

    async def update_rule(
        self, tenant_id: str, key: str, data: Any, merge: bool = False
    ) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise RuleProblem(422, "VALIDATION_FAILED", "the body must be a JSON object")
        async with self.db.session(self.mode) as session:
            row = await store.find_rule(session, tenant_id, key, for_update=True)
            if row is None:
                raise self.missing(tenant_id, key)
            merged = {**row.body, **data} if merge else dict(data)
            if isinstance(merged.get("actions"), list):
                merged["actions"] = keep_masked_secrets(
                    merged["actions"], row.body.get("actions", [])
                )
            # A default rule a user changes is the user's from then on: re-sizing leaves it.
            body, rule = await self.checked(row.rule_id, tenant_id, merged, False)
            row.body, row.alert_name = body.model_dump(mode="json"), body.alert_name
            row.is_default, row.updated_at = False, datetime.now(UTC)
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                raise RuleProblem(
                    409,
                    "ALERT_RULE_EXISTS",
                    f"tenant {tenant_id!r} already has a rule {body.alert_name!r}",
                ) from None
        await self.evaluator.update_rule(rule)
        return ok(self.rule_answer(row))

    async def patch_rule(self, tenant_id: str, key: str, data: Any) -> dict[str, Any]:
        return await self.update_rule(tenant_id, key, data, merge=True)

    async def delete_rule(self, tenant_id: str, key: str, _: Any = None) -> dict[str, Any]:
        rule_id = await self.evaluator.delete_rule(tenant_id, key)
        if rule_id is None:
            raise self.missing(tenant_id, key)
        return ok({"rule_id": rule_id, "deleted": True})

    async def export(self, request: dict[str, Any]) -> dict[str, Any]:
        tenant_id, fmt = str(request.get("tenant_id", "")), request.get("format", "prometheus")
        if fmt not in ("prometheus", "kubernetes"):
            raise RuleProblem(422, "VALIDATION_FAILED", "format must be prometheus or kubernetes")
        async with self.db.session(self.mode) as session:
            rows = await store.rules_of(session, tenant_id)
        return ok(
            {"format": fmt, "content": export_yaml(tenant_id, [rule_of(r) for r in rows], fmt)}
        )
