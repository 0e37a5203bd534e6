"""The alerts rpc (`ecp.<mode>.rpc.alerts.<query>`): rules, silences, history, notifications
and export, each checked and stored in one transaction, answered as `{ok, status, data}` or a
problem `{ok: false, status, code, detail, ...}`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services.alerts import store
from services.alerts.engine import Evaluator
from services.alerts.export import export_yaml
from services.alerts.rules import (
    Rule,
    RuleBody,
    RuleProblem,
    compile_rule,
    keep_masked_secrets,
    masked_actions,
    read_body,
    seconds_of,
)
from services.alerts.safety import ForbiddenWebhookError, check_webhook_url
from services.alerts.silences import read_silence, silence_window
from shared.settings import Settings


def ok(data: Any, status: int = 200) -> dict[str, Any]:
    return {"ok": True, "status": status, "data": data}


def rule_of(row: store.RuleRow) -> Rule:
    return compile_rule(
        row.rule_id, row.tenant_id, RuleBody.model_validate(row.body), row.is_default
    )


def iso(moment: float | datetime | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, float | int):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.isoformat()


class AlertsApi:
    """One mode's rpc answers; rule changes go to the mode's evaluator at once."""

    def __init__(self, evaluator: Evaluator, settings: Settings) -> None:
        self.evaluator, self.settings = evaluator, settings
        self.db, self.mode = evaluator.db, evaluator.mode

    def now(self) -> datetime:
        """The evaluator's clock: silences and evaluations agree on what time it is."""
        return datetime.fromtimestamp(self.evaluator.clock(), UTC)

    # Rules ----------------------------------------------------------------------------------
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
        self.evaluator.put_rule(rule)
        return ok(self.rule_answer(row))

    async def patch_rule(self, tenant_id: str, key: str, data: Any) -> dict[str, Any]:
        return await self.update_rule(tenant_id, key, data, merge=True)

    async def delete_rule(self, tenant_id: str, key: str, _: Any = None) -> dict[str, Any]:
        async with self.db.session(self.mode) as session:
            row = await store.find_rule(session, tenant_id, key, for_update=True)
            if row is None:
                raise self.missing(tenant_id, key)
            await store.delete_rule(session, row.rule_id)
            await session.commit()
        self.evaluator.drop_rule(tenant_id, row.rule_id)
        return ok({"rule_id": row.rule_id, "deleted": True})

    # Silences -------------------------------------------------------------------------------
    async def silences(self, request: dict[str, Any]) -> dict[str, Any]:
        op, tenant_id = request.get("op"), str(request.get("tenant_id", ""))
        now = self.now()
        async with self.db.session(self.mode) as session:
            if op == "create":
                body = read_silence(request.get("body"))
                duration = seconds_of(body.duration, "duration") if body.duration else None
                starts, ends = silence_window(body, now, duration)
                row = store.SilenceRow(
                    silence_id=f"s-{uuid.uuid4().hex[:16]}",
                    tenant_id=tenant_id,
                    matchers=[m.model_dump() for m in body.matchers],
                    starts_at=starts,
                    ends_at=ends,
                    comment=body.comment,
                    created_by=body.created_by,
                    created_at=now,
                )
                session.add(row)
                await session.commit()
                return ok(self.silence_answer(row, now), 201)
            if op == "list":
                rows = (
                    await session.execute(
                        select(store.SilenceRow)
                        .where(col(store.SilenceRow.tenant_id) == tenant_id)
                        .order_by(col(store.SilenceRow.created_at).desc())
                    )
                ).scalars()
                answers = [self.silence_answer(r, now) for r in rows]
                return ok(
                    {"tenant_id": tenant_id, "silences": answers, "total_count": len(answers)}
                )
            if op == "expire":
                found = await session.get(
                    store.SilenceRow, str(request.get("key")), with_for_update=True
                )
                if found is None or found.tenant_id != tenant_id:
                    raise RuleProblem(
                        404, "SILENCE_NOT_FOUND", f"no silence {request.get('key')!r}"
                    )
                if found.ends_at > now:
                    found.ends_at = max(now, found.starts_at)
                    session.add(found)
                    await session.commit()
                return ok(self.silence_answer(found, now))
        raise RuleProblem(400, "BAD_REQUEST", f"unknown silences operation {op!r}")

    @staticmethod
    def silence_answer(row: store.SilenceRow, now: datetime) -> dict[str, Any]:
        state = "pending" if row.starts_at > now else "active" if row.ends_at > now else "expired"
        return {
            "silence_id": row.silence_id,
            "tenant_id": row.tenant_id,
            "matchers": row.matchers,
            "starts_at": iso(row.starts_at),
            "ends_at": iso(row.ends_at),
            "comment": row.comment,
            "created_by": row.created_by,
            "status": state,
        }

    # History, notifications, export ----------------------------------------------------------
    async def history(self, request: dict[str, Any]) -> dict[str, Any]:
        tenant_id, limit = str(request.get("tenant_id", "")), int(request.get("limit", 100))
        h = store.HistoryRow
        statement = select(h).where(col(h.tenant_id) == tenant_id)
        if request.get("rule"):
            statement = statement.where(
                (col(h.rule_id) == request["rule"]) | (col(h.alert_name) == request["rule"])
            )
        async with self.db.session(self.mode) as session:
            rows = (
                await session.execute(statement.order_by(col(h.id).desc()).limit(limit))
            ).scalars()
            entries = [
                {
                    **r.model_dump(exclude={"id", "published_at"}, mode="json"),
                    "id": r.id,
                }
                for r in rows
            ]
        return ok({"tenant_id": tenant_id, "history": entries, "total_count": len(entries)})

    async def notifications(self, request: dict[str, Any]) -> dict[str, Any]:
        tenant_id, limit = str(request.get("tenant_id", "")), int(request.get("limit", 100))
        n, a = store.NotificationRow, store.AttemptRow
        async with self.db.session(self.mode) as session:
            rows = list(
                (
                    await session.execute(
                        select(n)
                        .where(col(n.tenant_id) == tenant_id)
                        .order_by(col(n.id).desc())
                        .limit(limit)
                    )
                ).scalars()
            )
            ids = [r.id for r in rows]
            attempts = list(
                (
                    await session.execute(
                        select(a).where(col(a.notification_id).in_(ids)).order_by(col(a.id))
                    )
                ).scalars()
            )
        by_row: dict[int, list[dict[str, Any]]] = {}
        for attempt in attempts:
            by_row.setdefault(attempt.notification_id, []).append(
                attempt.model_dump(exclude={"id", "notification_id", "tenant_id"}, mode="json")
            )
        entries = [
            {
                **r.model_dump(exclude={"action", "payload"}, mode="json"),
                "method": r.action.get("method"),
                "log": by_row.get(r.id or 0, []),
            }
            for r in rows
        ]
        return ok({"tenant_id": tenant_id, "notifications": entries, "total_count": len(entries)})

    async def export(self, request: dict[str, Any]) -> dict[str, Any]:
        tenant_id, fmt = str(request.get("tenant_id", "")), request.get("format", "prometheus")
        if fmt not in ("prometheus", "kubernetes"):
            raise RuleProblem(422, "VALIDATION_FAILED", "format must be prometheus or kubernetes")
        async with self.db.session(self.mode) as session:
            rows = await store.rules_of(session, tenant_id)
        return ok(
            {"format": fmt, "content": export_yaml(tenant_id, [rule_of(r) for r in rows], fmt)}
        )
