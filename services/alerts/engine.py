"""Streamed evaluation of one mode's rules: samples in, state transitions persisted, history and
notification rows written in the same transaction, events published once.

After a restart the rules' states come back from the database (a firing alert stays firing and
is not notified again); the sample windows start empty, so for `stale_after` seconds a tenant
whose samples have not arrived yet is not judged on missing data."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col

from services.alerts import store
from services.alerts.conditions import comparisons_of, longest_window, metrics_of
from services.alerts.evaluation import (
    AlertStatus,
    RuleState,
    Transition,
    WindowStore,
    evaluate,
    operand_value,
    step,
)
from services.alerts.payloads import Notice, webhook_payload
from services.alerts.rules import Rule
from services.alerts.silences import silenced_by
from shared.contracts.alerts import AlertTransition
from shared.contracts.metrics import MetricBatch
from shared.db import Databases
from shared.modes import Mode
from shared.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Publisher = Callable[[Mode, str, str, AlertTransition, str], Awaitable[Any]]
WINDOW_MARGIN_S = 60.0


def moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@dataclass
class Tracked:
    """A rule and where it stands."""

    rule: Rule
    metrics: frozenset[str]
    state: RuleState
    value: float | None = None
    repeat: int = 0
    last_notified_at: float | None = None


@dataclass
class Outcome:
    """One rule's evaluation result that must be written."""

    tracked: Tracked
    state: RuleState
    value: float | None
    transition: Transition | None
    repeat: int
    last_notified_at: float | None
    notify: str | None  # firing | resolved, when notifications are due


class Evaluator:
    def __init__(
        self,
        mode: Mode,
        db: Databases,
        settings: Settings,
        clock: Clock,
        publish: Publisher,
        wake_delivery: Callable[[], None] = lambda: None,
    ) -> None:
        self.mode, self.db, self.settings, self.clock = mode, db, settings, clock
        self.publish, self.wake_delivery = publish, wake_delivery
        self.rules: dict[str, dict[str, Tracked]] = {}
        self.windows: dict[str, WindowStore] = {}
        self.fed: set[str] = set()
        self.started_at = clock()
        self.lock = asyncio.Lock()

    # Rules -------------------------------------------------------------------------------
    async def load(self, compile_row: Callable[[store.RuleRow], Rule]) -> None:
        async with self.db.session(self.mode) as session:
            rows = await store.rules_of(session)
            states = {s.rule_id: s for s in await store.states_of(session)}
        self.rules.clear()
        self.started_at = self.clock()
        for row in rows:
            try:
                self.put_rule(compile_row(row))
            except Exception:  # one broken row must not stop the service
                log.exception("stored rule does not compile", extra={"rule_id": row.rule_id})
                continue
            saved = states.get(row.rule_id)
            if saved is not None:
                tracked = self.rules[row.tenant_id][row.rule_id]
                tracked.state = RuleState.from_dict(saved.state)
                tracked.value, tracked.repeat = saved.value, saved.repeat
                notified = saved.last_notified_at
                tracked.last_notified_at = notified.timestamp() if notified else None

    def put_rule(self, rule: Rule) -> None:
        rules = self.rules.setdefault(rule.tenant_id, {})
        old = rules.get(rule.rule_id)
        tracked = Tracked(rule, frozenset(metrics_of(rule.condition)), RuleState())
        if old is not None:
            tracked.state, tracked.value = old.state, old.value
            tracked.repeat, tracked.last_notified_at = old.repeat, old.last_notified_at
        rules[rule.rule_id] = tracked
        retention = max(longest_window(rule.condition), self.stale_after) + WINDOW_MARGIN_S
        window = self.windows.setdefault(rule.tenant_id, WindowStore(retention))
        window.retention_s = max(window.retention_s, retention)

    def drop_rule(self, tenant_id: str, rule_id: str) -> None:
        self.rules.get(tenant_id, {}).pop(rule_id, None)
        if not self.rules.get(tenant_id):
            self.drop_tenant(tenant_id)

    def drop_tenant(self, tenant_id: str) -> None:
        self.rules.pop(tenant_id, None)
        self.windows.pop(tenant_id, None)
        self.fed.discard(tenant_id)

    @property
    def stale_after(self) -> float:
        return self.settings.alert_stale_after_seconds

    # Evaluation --------------------------------------------------------------------------
    async def on_batch(self, batch: MetricBatch) -> None:
        rules = self.rules.get(batch.tenant_id)
        if not rules or not batch.samples:
            return
        window = self.windows[batch.tenant_id]
        newest = 0.0
        names = set()
        for sample in batch.samples:
            at = sample.timestamp.timestamp()
            window.add(sample.name, at, sample.value)
            names.add(sample.name)
            newest = max(newest, at)
        self.fed.add(batch.tenant_id)
        # Samples stamped slightly ahead of this clock must still count as present.
        now = max(self.clock(), newest)
        touched = [t for t in rules.values() if t.metrics & names]
        await self.advance(batch.tenant_id, touched, now)

    async def tick(self) -> None:
        """Let time pass for every rule: resolve and go stale without samples, send repeats."""
        now = self.clock()
        in_grace = now - self.started_at < self.stale_after
        for tenant_id, rules in list(self.rules.items()):
            if in_grace and tenant_id not in self.fed:
                continue
            await self.advance(tenant_id, list(rules.values()), now)

    def judge(self, tracked: Tracked, now: float) -> Outcome | None:
        rule = tracked.rule
        if not rule.enabled:
            return None
        window = self.windows.get(rule.tenant_id) or WindowStore(0.0)
        verdict = evaluate(rule.condition, window, now, self.stale_after)
        state, transition = step(
            tracked.state, verdict, now, rule.duration_s, rule.keep_firing_for_s
        )
        first = next(comparisons_of(rule.condition))
        value = operand_value(first.operand, window, now, self.stale_after)
        repeat, notified, notify = tracked.repeat, tracked.last_notified_at, None
        if transition is not None and transition.notifies:
            repeat, notified, notify = 0, now, transition.kind.value
        elif state.status is AlertStatus.FIRING and notified is not None:
            interval = rule.repeat_interval_s or self.settings.alert_repeat_interval_seconds
            if now - notified >= interval:
                repeat, notified, notify = repeat + 1, now, "firing"
        material = replace(state, evaluated_at=None) != replace(tracked.state, evaluated_at=None)
        if transition is None and notify is None and not material:
            tracked.state = state  # only evaluated_at moved: not worth a write
            return None
        return Outcome(tracked, state, value, transition, repeat, notified, notify)

    async def advance(self, tenant_id: str, rules: list[Tracked], now: float) -> None:
        async with self.lock:
            outcomes = [o for t in rules if (o := self.judge(t, now)) is not None]
            if not outcomes:
                return
            history = await self.write(tenant_id, outcomes, now)
            for o in outcomes:
                t = o.tracked
                t.state, t.value, t.repeat, t.last_notified_at = (
                    o.state,
                    o.value,
                    o.repeat,
                    o.last_notified_at,
                )
        if any(o.notify for o in outcomes):
            self.wake_delivery()
        for row in history:
            await self.announce(row)

    async def write(
        self, tenant_id: str, outcomes: list[Outcome], now: float
    ) -> list[store.HistoryRow]:
        at = moment(now)
        assert at is not None
        history: list[store.HistoryRow] = []
        async with self.db.session(self.mode) as session:
            silences = None
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
                    history.append(self.history_row(rule, o, at))
                    await session.execute(
                        insert(store.HistoryRow)
                        .values(**history[-1].model_dump(exclude={"id"}))
                        .on_conflict_do_nothing()
                    )
                if o.notify and rule.actions:
                    if silences is None:
                        rows = await store.active_silences(session, tenant_id, at)
                        silences = [(s.silence_id, s.matchers) for s in rows]
                    await self.queue_notifications(session, rule, o, at, silences)
            await session.commit()
        return history

    def history_row(self, rule: Rule, o: Outcome, at: datetime) -> store.HistoryRow:
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
        self,
        session: Any,
        rule: Rule,
        o: Outcome,
        at: datetime,
        silences: list[tuple[str, list[dict[str, Any]]]],
    ) -> None:
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

    # Events ------------------------------------------------------------------------------
    async def announce(self, row: store.HistoryRow) -> None:
        event = AlertTransition(
            tenant_id=row.tenant_id,
            rule_id=row.rule_id,
            alert_name=row.alert_name,
            status=row.status,
            sequence=row.sequence,
            fingerprint=row.fingerprint,
            condition=row.condition,
            value=row.value,
            active_since=row.active_since,
            fired_at=row.fired_at,
            resolved_at=row.at if row.status == "resolved" else None,
            labels=row.labels,
        )
        msg_id = f"alert.{row.status}:{row.rule_id}:{row.sequence}"
        try:
            await self.publish(self.mode, row.tenant_id, f"alert.{row.status}", event, msg_id)
        except Exception:  # noqa: BLE001 - the sweep publishes it later
            log.warning("alert event not published yet", extra={"msg_id": msg_id})
            return
        async with self.db.session(self.mode) as session:
            await session.execute(
                update(store.HistoryRow)
                .where(
                    col(store.HistoryRow.rule_id) == row.rule_id,
                    col(store.HistoryRow.sequence) == row.sequence,
                    col(store.HistoryRow.status) == row.status,
                )
                .values(published_at=datetime.now(UTC))
            )
            await session.commit()

    async def publish_missed(self, older_than_s: float = 5.0) -> None:
        """Events whose publication a crash or a broker outage interrupted."""
        cutoff = moment(self.clock() - older_than_s)
        async with self.db.session(self.mode) as session:
            rows = (
                await session.execute(
                    select(store.HistoryRow)
                    .where(
                        col(store.HistoryRow.published_at).is_(None),
                        col(store.HistoryRow.at) < cutoff,
                    )
                    .order_by(col(store.HistoryRow.id))
                    .limit(100)
                )
            ).scalars()
            missed = list(rows)
        for row in missed:
            await self.announce(row)
