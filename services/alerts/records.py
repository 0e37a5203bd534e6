"""What an evaluation writes in the caller's transaction: each rule's state, the history row of a
transition, and the notification rows of the outbox (marked silenced where a silence matches)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.alerts import store
from services.alerts.judgement import Outcome
from services.alerts.payloads import Notice, webhook_payload
from services.alerts.rules import Rule
from services.alerts.silences import silenced_by

Silences = list[tuple[str, list[dict[str, Any]]]]


def moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


async def write_outcomes(
    session: AsyncSession, tenant_id: str, outcomes: list[Outcome], at: datetime
) -> list[store.HistoryRow]:
    """Write every outcome of one tenant; the history rows written, for announcing."""
    history: list[store.HistoryRow] = []
    silences: Silences | None = None
    for o in outcomes:
        rule = o.tracked.rule
        values = {
            "rule_id": rule.rule_id,
            "tenant_id": tenant_id,
            "state": o.state.to_dict(),
            "value": o.value,
            "repeat": o.repeat,
            "last_notified_at": moment(o.last_notified_at),
            "updated_at": at,
        }
        await session.execute(
            insert(store.RuleStateRow)
            .values(**values)
            .on_conflict_do_update(index_elements=["rule_id"], set_=values)
        )
        if o.transition is not None and o.transition.notifies:
            history.append(history_row(rule, o, at))
            await session.execute(
                insert(store.HistoryRow)
                .values(**history[-1].model_dump(exclude={"id"}))
                .on_conflict_do_nothing()
            )
        if o.notify and rule.actions:
            if silences is None:
                rows = await store.active_silences(session, tenant_id, at)
                silences = [(s.silence_id, s.matchers) for s in rows]
            await queue_notifications(session, rule, o, at, silences)
    return history


def history_row(rule: Rule, o: Outcome, at: datetime) -> store.HistoryRow:
    assert o.transition is not None
    return store.HistoryRow(
        tenant_id=rule.tenant_id,
        rule_id=rule.rule_id,
        alert_name=rule.alert_name,
        status=o.transition.kind.value,
        sequence=o.transition.sequence,
        fingerprint=rule.fingerprint,
        condition=rule.condition_text,
        value=o.value,
        labels=rule.alert_labels,
        at=at,
        active_since=moment(o.transition.active_since),
        fired_at=moment(o.transition.fired_at),
    )


async def queue_notifications(
    session: AsyncSession, rule: Rule, o: Outcome, at: datetime, silences: Silences
) -> None:
    """One outbox row per action; the unique key makes a second write of the same one a no-op."""
    status = o.notify or "firing"
    since = o.transition.active_since if o.transition else o.state.active_since
    starts = moment(since) or at
    notice = Notice(
        tenant_id=rule.tenant_id,
        rule_id=rule.rule_id,
        alert_name=rule.alert_name,
        status=status,
        sequence=o.state.sequence,
        repeat=o.repeat,
        fingerprint=rule.fingerprint,
        labels=rule.alert_labels,
        annotations=rule.annotations,
        condition=rule.condition_text,
        value=o.value,
        starts_at=starts,
        ends_at=at if status == "resolved" else None,
    )
    labels = {**rule.alert_labels, "alertname": rule.alert_name, "tenant_id": rule.tenant_id}
    silence = silenced_by(labels, silences)
    for index, action in enumerate(rule.actions):
        target = action.get("url") or ", ".join(action.get("recipients", []))
        receiver = f"{rule.tenant_id}/{rule.alert_name}/{action['type']}-{index}"
        await session.execute(
            insert(store.NotificationRow)
            .values(
                tenant_id=rule.tenant_id,
                rule_id=rule.rule_id,
                alert_name=rule.alert_name,
                sequence=notice.sequence,
                status=status,
                repeat=o.repeat,
                action_index=index,
                action_type=action["type"],
                target=target,
                action=action,
                payload=webhook_payload(notice, receiver),
                state="silenced" if silence else "pending",
                attempts=0,
                next_attempt_at=at,
                silence_id=silence,
                created_at=at,
            )
            .on_conflict_do_nothing()
        )
