"""Demo deployments: the virtual cluster schedules the pods and rolls them out in simulated time."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import asyncpg

from services.deployer import store
from services.deployer.cluster_file import DEFAULT_CLUSTER_FILE, ClusterSpec, load_cluster
from services.deployer.job import Job, Outcome, object_status
from services.deployer.placement import PlacementMemo, place_tenant, release_tenant
from services.deployer.policy import (
    ROLLOUT_KINDS,
    ObjectRef,
    apply_steps,
    invalid_objects,
    inventory_of,
)
from services.deployer.scheduling import Workload, WorkloadError, workloads_in
from services.deployer.virtual_cluster import (
    ClusterState,
    PlacementReport,
    rollout_plan,
    usage,
)
from shared.contracts.base import utc_now
from shared.db import Databases
from shared.modes import Mode
from shared.settings import Settings

log = logging.getLogger(__name__)


class DemoTarget:
    """The virtual cluster of the demo database: the nodes in one row, locked while a placement
    changes the cluster, and each tenant's pods in a row of its own, so a placement writes only
    its tenant's. The last version read is cached so a placement does not read it all again."""

    def __init__(self, db: Databases, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.spec: ClusterSpec = load_cluster(settings.virtual_cluster_file or DEFAULT_CLUSTER_FILE)
        self._cached: tuple[int, ClusterState] | None = None
        self._memo = PlacementMemo()
        # This process places one tenant at a time, on the state it cached last.
        self._placing = asyncio.Lock()

    async def prepare(self) -> None:
        """Create the cluster row, or fit the stored pods to the nodes of the current file."""
        empty = ClusterState.empty(self.spec)
        async with self.db.transaction(Mode.demo) as conn:
            version, state = await self._locked(conn)
            if state.nodes != empty.nodes:
                names = {n.name for n in empty.nodes}
                gone = [p for p in state.pods if p.node not in names]
                log.warning(
                    "virtual cluster nodes changed",
                    extra={"pods_dropped_from_gone_nodes": len(gone)},
                )
                kept = tuple(p for p in state.pods if p.node in names)
                new_state = ClusterState(nodes=empty.nodes, pods=kept)
                await store.save_nodes(conn, version + 1, _nodes(empty), utc_now())
                for tenant_id in sorted({p.tenant_id for p in gone}):
                    await self._save(conn, version + 1, new_state, tenant_id)
                self._cached = None

    async def _locked(self, conn: asyncpg.Connection) -> tuple[int, ClusterState]:
        version = await store.cluster_version(conn, for_update=True)
        if version is None:
            await store.add_cluster(conn, _nodes(ClusterState.empty(self.spec)), utc_now())
            version = await store.cluster_version(conn, for_update=True)
            assert version is not None
        if self._cached is not None and self._cached[0] == version:
            return self._cached
        self._cached = (version, await self._read(conn))
        return self._cached

    async def _read(self, conn: asyncpg.Connection) -> ClusterState:
        nodes = await store.cluster_state(conn)
        if nodes is None:
            return ClusterState.empty(self.spec)
        return ClusterState.model_validate({**nodes, "pods": await store.all_pods(conn)})

    async def _save(
        self, conn: asyncpg.Connection, version: int, state: ClusterState, tenant_id: str
    ) -> None:
        """Store the tenant's pods of `state`, which differs from the stored one only in those."""
        start, end = state.tenant_span(tenant_id)
        pods = [p.model_dump(mode="json") for p in state.pods[start:end]]
        await store.save_tenant_pods(conn, version + 1, tenant_id, pods, utc_now())
        self._cached = (version + 1, state)

    def forget_cache(self) -> None:
        """After a transaction that did not commit, the cached state may be ahead of the row."""
        self._cached = None

    async def state(self) -> ClusterState:
        async with self.db.transaction(Mode.demo) as conn:
            return await self._read(conn)

    async def cluster_usage(self) -> dict[str, Any]:
        state = await self.state()
        return {
            "mode": "demo",
            "cluster": self.spec.name,
            "nodes": [u.model_dump(mode="json") for u in usage(state)],
        }

    async def run(self, job: Job) -> Outcome:
        report = job.reporter
        await report.step("validate", "started")
        problems = invalid_objects(job.objects)
        workloads: list[Workload] = []
        try:
            workloads = workloads_in(job.objects)
        except WorkloadError as error:
            problems.append(str(error))
        if problems:
            await report.step("validate", "failed", "; ".join(problems))
            return Outcome(ok=False, reason="; ".join(problems), inventory=job.inventory)
        await report.step("validate", "ok", f"{len(job.objects)} objects")

        await report.step("dry-run", "started", "scheduling the pods on the virtual cluster")
        placement = await self._place(job, workloads)
        if not placement.ok:
            first = placement.pending[0]
            reason = (
                f"{first.reason} (pod {first.name} of {first.kind} {first.workload}; "
                f"{len(placement.pending)} pod(s) cannot be scheduled)"
            )
            await report.step("dry-run", "failed", reason, {"pending": _pending(placement)})
            return Outcome(ok=False, reason=reason, inventory=job.inventory)
        where = _placement(placement)
        await report.step("dry-run", "ok", f"{len(placement.placed)} pods scheduled", where)

        statuses: list[dict[str, Any]] = []
        for step, objects in apply_steps(job.objects):
            refs = [ObjectRef.of(obj) for obj in objects]
            statuses.extend(object_status(r.model_dump(exclude_none=True), "applied") for r in refs)
            await report.step(step, "ok", ", ".join(r.label() for r in refs))
        await self._roll_out(job, workloads)
        ready = {w.name: w.replicas for w in workloads}
        for entry in statuses:
            if entry["kind"] in ROLLOUT_KINDS:
                replicas = ready.get(entry["name"], 0)
                entry.update(status="ready", message=f"{replicas}/{replicas} ready")
                entry["nodes"] = sorted(
                    {p.node for p in placement.placed if p.workload == entry["name"]}
                )
        await report.step("done", "ok", f"{len(placement.placed)} pods running")
        inventory = inventory_of(job.objects)
        return Outcome(ok=True, objects=statuses, inventory=inventory, placement=where)

    async def _place(self, job: Job, workloads: list[Workload]) -> PlacementReport:
        async with self._placing:
            placement = await self._place_on_cached(job, workloads)
            if placement is None:
                placement = await self._place_locked(job, workloads)
            return placement

    async def _place_on_cached(self, job: Job, workloads: list[Workload]) -> PlacementReport | None:
        """Place on the state cached at the last version seen and write it if the cluster is
        still at that version: one statement, no lock. None when it is not (another replica
        placed meanwhile) or the tenant did not fit there: the locked way then decides."""
        if self._cached is None:
            return None
        version, state = self._cached
        new_state, placement = place_tenant(
            state, job.tenant_id, job.objects, self._memo, workloads=workloads
        )
        if not placement.ok:
            return None
        start, end = new_state.tenant_span(job.tenant_id)
        pods = [p.model_dump(mode="json") for p in new_state.pods[start:end]]
        async with self.db.connection(Mode.demo) as conn:
            if not await store.save_tenant_pods_at(conn, version, job.tenant_id, pods, utc_now()):
                return None
            self._cached = (version + 1, new_state)
            await self._show(conn, job, placement)
        return placement

    async def _place_locked(self, job: Job, workloads: list[Workload]) -> PlacementReport:
        """Place and record in one transaction, with the cluster row locked throughout."""
        try:
            async with self.db.transaction(Mode.demo) as conn:
                version, state = await self._locked(conn)
                new_state, placement = place_tenant(
                    state, job.tenant_id, job.objects, self._memo, workloads=workloads
                )
                if placement.ok:
                    await self._save(conn, version, new_state, job.tenant_id)
                    await self._show(conn, job, placement)
        except BaseException:
            self.forget_cache()
            raise
        return placement

    async def _show(self, conn: asyncpg.Connection, job: Job, placement: PlacementReport) -> None:
        if self.settings.rollout_seconds_per_replica > 0:
            # Shown by GET .../deployment while the pods roll out; with no rollout time the
            # outcome, written next, carries it.
            await store.show_placement(conn, job.deployment_id, _placement(placement), "dry-run")

    async def _roll_out(self, job: Job, workloads: list[Workload]) -> None:
        seconds = self.settings.rollout_seconds_per_replica
        plan = rollout_plan(
            job.objects, seconds, self.settings.simulation_seed, workloads=workloads
        )
        started = time.monotonic()
        for step in plan:
            delay = step.at_seconds - (time.monotonic() - started)
            if delay > 0:
                await asyncio.sleep(delay)
            done = step.ready_replicas == step.desired_replicas
            if seconds > 0 or done:
                await job.reporter.step(
                    f"rollout/{step.workload}",
                    "ok" if done else "waiting",
                    f"{step.ready_replicas}/{step.desired_replicas} ready",
                    {"ready_total": step.ready_total, "desired_total": step.desired_total},
                )

    async def release(self, conn: asyncpg.Connection, tenant_id: str) -> None:
        """Free the tenant's capacity inside the caller's transaction."""
        try:
            version, state = await self._locked(conn)
            start, end = state.tenant_span(tenant_id)
            if end > start:
                await self._save(conn, version, release_tenant(state, tenant_id), tenant_id)
        except BaseException:
            self.forget_cache()
            raise


def _nodes(state: ClusterState) -> dict[str, Any]:
    """What the cluster row holds: the nodes, without the pods."""
    return {"nodes": [n.model_dump(mode="json") for n in state.nodes]}


def _placement(report: PlacementReport) -> dict[str, Any]:
    return {
        "nodes": sorted({p.node for p in report.placed}),
        "pods": [
            {"workload": p.workload, "kind": p.kind, "pod": p.name, "node": p.node, "gpus": p.gpus}
            for p in report.placed
        ],
    }


def _pending(report: PlacementReport) -> list[dict[str, str]]:
    return [p.model_dump() for p in report.pending]
