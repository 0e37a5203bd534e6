"""Streamed evaluation of one mode's rules: samples in, state transitions persisted, history and
notification rows written in the same transaction, events published once.

After a restart the rules' states come back from the database (a firing alert stays firing and
is not notified again); the sample windows start empty, so for `stale_after` seconds a tenant
whose samples have not arrived yet is not judged on missing data.

A rule deleted or disabled while its alert fires resolves it through the same outbox, once. A
delete writes the resolution in the transaction that deletes the rule; a disabled rule is judged
ended at once, and again at each tick until that is written, so a crash in between only delays it."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from services.alerts import store
from services.alerts.announcements import Announcer, Publisher
from services.alerts.conditions import longest_window, metrics_of
from services.alerts.judgement import Outcome, Tracked, ending, judge
from services.alerts.records import write_outcomes
from services.alerts.rules import Rule
from services.alerts.state_machine import RuleState
from services.alerts.windows import WindowStore
from shared.contracts.metrics import MetricPoint
from shared.db import Databases
from shared.modes import Mode
from shared.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], float]
WINDOW_MARGIN_S = 60.0


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
        self.wake_delivery = wake_delivery
        self.announcer = Announcer(mode, db, clock, publish)
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

    def put_rule(self, rule: Rule) -> Tracked:
        rules = self.rules.setdefault(rule.tenant_id, {})
        metrics = frozenset(metrics_of(rule.condition))
        tracked = rules.get(rule.rule_id)
        if tracked is None:
            tracked = rules[rule.rule_id] = Tracked(rule, metrics, RuleState())
        else:
            # Changed in place: an evaluation in flight records its outcome on this same entry.
            tracked.rule, tracked.metrics = rule, metrics
        retention = max(longest_window(rule.condition), self.stale_after) + WINDOW_MARGIN_S
        window = self.windows.setdefault(rule.tenant_id, WindowStore(retention))
        window.retention_s = max(window.retention_s, retention)
        return tracked

    async def update_rule(self, rule: Rule) -> None:
        """A changed rule; one disabled while its alert is active ends that alert now."""
        tracked = self.put_rule(rule)
        if not rule.enabled:
            await self.advance(rule.tenant_id, [tracked], self.clock())

    async def delete_rule(self, tenant_id: str, key: str) -> str | None:
        """Delete a stored rule (by id or alert name); its active alert ends in the same
        transaction. The rule's id, or None when the tenant has no such rule."""
        # Under the lock no evaluation of the rule is half-written while it goes, so nothing
        # is notified after its resolution.
        async with self.lock:
            now = self.clock()
            async with self.db.session(self.mode) as session:
                row = await store.find_rule(session, tenant_id, key, for_update=True)
                if row is None:
                    return None
                ended = self.endings(tenant_id, now, row.rule_id)
                history = await write_outcomes(session, tenant_id, ended, self.at(now))
                await store.delete_rule(session, row.rule_id)
                await session.commit()
            self.remember(ended)
            self.drop_rule(tenant_id, row.rule_id)
        await self.settle(ended, history)
        return row.rule_id

    async def delete_tenant(self, tenant_id: str) -> None:
        """Delete a tenant's rules and silences; its active alerts end in the same transaction."""
        async with self.lock:
            now = self.clock()
            async with self.db.session(self.mode) as session:
                ended = self.endings(tenant_id, now)
                history = await write_outcomes(session, tenant_id, ended, self.at(now))
                await store.delete_tenant(session, tenant_id)
                await session.commit()
            self.remember(ended)
            self.drop_tenant(tenant_id)
        await self.settle(ended, history)

    def endings(self, tenant_id: str, now: float, rule_id: str | None = None) -> list[Outcome]:
        """The ends of the active alerts of the tenant's rules, or of one of them."""
        tracked = list(self.rules.get(tenant_id, {}).values())
        if rule_id is not None:
            tracked = [t for t in tracked if t.rule.rule_id == rule_id]
        return [o for t in tracked if (o := ending(t, now)) is not None]

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
    async def on_points(self, messages: list[tuple[str, list[MetricPoint]]]) -> None:
        """The messages of one consumer round: every sample is kept first, then each tenant's
        rules are judged once, at its newest moment, rather than once per message (a tenant
        pushing from many pods sends many messages a second; a rule reads the windows anyway)."""
        by_tenant: dict[str, list[MetricPoint]] = defaultdict(list)
        for tenant_id, points in messages:
            by_tenant[tenant_id].extend(points)
        for tenant_id, samples in by_tenant.items():
            rules = self.rules.get(tenant_id)
            if not rules or not samples:
                continue
            names, newest = keep_samples(self.windows[tenant_id], samples)
            self.fed.add(tenant_id)
            # Samples stamped slightly ahead of this clock must still count as present.
            now = max(self.clock(), newest)
            touched = [t for t in rules.values() if t.metrics & names]
            await self.advance(tenant_id, touched, now)

    async def tick(self) -> None:
        """Let time pass for every rule: resolve and go stale without samples, send repeats."""
        now = self.clock()
        in_grace = now - self.started_at < self.stale_after
        for tenant_id, rules in list(self.rules.items()):
            if in_grace and tenant_id not in self.fed:
                continue
            await self.advance(tenant_id, list(rules.values()), now)

    def judge(self, tracked: Tracked, now: float) -> Outcome | None:
        window = self.windows.get(tracked.rule.tenant_id) or WindowStore(0.0)
        repeat_s = self.settings.alert_repeat_interval_seconds
        return judge(tracked, window, now, self.stale_after, repeat_s)

    async def advance(self, tenant_id: str, rules: list[Tracked], now: float) -> None:
        async with self.lock:
            # A rule deleted while this waited for the lock is no longer judged.
            current = self.rules.get(tenant_id, {})
            rules = [t for t in rules if current.get(t.rule.rule_id) is t]
            outcomes = [o for t in rules if (o := self.judge(t, now)) is not None]
            if not outcomes:
                return
            async with self.db.session(self.mode) as session:
                history = await write_outcomes(session, tenant_id, outcomes, self.at(now))
                await session.commit()
            self.remember(outcomes)
        await self.settle(outcomes, history)

    @staticmethod
    def remember(outcomes: list[Outcome]) -> None:
        """Once committed (and under the lock), the outcomes become the rules' states."""
        for o in outcomes:
            t = o.tracked
            t.state, t.value, t.repeat, t.last_notified_at = (
                o.state,
                o.value,
                o.repeat,
                o.last_notified_at,
            )

    async def settle(self, outcomes: list[Outcome], history: list[store.HistoryRow]) -> None:
        """After the lock: wake the delivery loop for new notifications, announce transitions."""
        if any(o.notify for o in outcomes):
            self.wake_delivery()
        for row in history:
            await self.announcer.announce(row)

    @staticmethod
    def at(now: float) -> datetime:
        return datetime.fromtimestamp(now, UTC)


def keep_samples(window: WindowStore, samples: list[MetricPoint]) -> tuple[set[str], float]:
    """Adds samples to a tenant's window; the metrics they were of and the newest moment.
    Several pods' samples of a metric at one moment count as their mean, as the live stream
    shows them (the window keeps one value per moment)."""
    sums: dict[tuple[str, float], list[float]] = {}
    for name, at, value in samples:
        running = sums.get((name, at))
        if running is None:
            sums[(name, at)] = [value, 1.0]
        else:
            running[0] += value
            running[1] += 1.0
    newest = 0.0
    names = set()
    for (name, at), (total, count) in sums.items():
        window.add(name, at, total / count)
        names.add(name)
        newest = max(newest, at)
    return names, newest
