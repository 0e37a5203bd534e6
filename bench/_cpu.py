"""CPU time the running system spends on a piece of work, process by process, and a yardstick of
this machine's speed, so figures from machines of different speed can be compared.

A benchmark's rate is bounded by its CPU cost: with every core busy, a system that spends C
seconds of CPU per unit does at most cores / C units a second, however it is arranged."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import psutil

from tests.support.servers import Servers
from tests.support.system import RunningSystem


def python_yardstick_s() -> float:
    """Seconds for ten million additions in a Python loop: the same work on every machine."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def _server_process(port: int | None, names: Iterable[str]) -> psutil.Process | None:
    """The server listening on `port` that this run started (its command line names the port);
    None for servers given by URL and started elsewhere, whose CPU is not ours to count."""
    if port is None:
        return None
    wanted = {f"-p {port}", f"--port {port}", f"-p={port}", f"--port={port}"}
    for process in psutil.process_iter(["name", "cmdline"]):
        name, cmdline = process.info["name"] or "", " ".join(process.info["cmdline"] or [])
        if any(n in name for n in names) and any(w in cmdline for w in wanted):
            return process
    return None


class CpuMeter:
    """CPU seconds (user + system) of each service process and, when this run started them, of
    the PostgreSQL server (with its backends) and the NATS server, between `start` and `stop`.
    A backend that exits meanwhile takes its time with it; the pools keep theirs open."""

    def __init__(self, system: RunningSystem, servers: Servers) -> None:
        self.processes = {
            name: psutil.Process(process.pid) for name, process in system.processes.items()
        }
        postgres = _server_process(urlsplit(servers.postgres_admin_url).port, ["postgres"])
        nats = _server_process(urlsplit(servers.nats_url).port, ["nats-server"])
        self.servers = {name: p for name, p in (("postgres", postgres), ("nats", nats)) if p}
        self._started: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for name, process in self.processes.items():
            used[name] = _seconds([process])
        for name, process in self.servers.items():
            used[name] = _seconds([process, *process.children(recursive=True)])
        return used

    def start(self) -> None:
        self._started = self._now()

    def stop(self) -> dict[str, float]:
        """Seconds used since `start`, by process (services, then servers), most first."""
        now = self._now()
        spent = {name: now[name] - self._started.get(name, 0.0) for name in now}
        return dict(sorted(spent.items(), key=lambda item: -item[1]))


def _seconds(processes: Iterable[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def cpu_rows(
    spent: dict[str, float], units: int, unit: str, scale: float, shown: str
) -> list[tuple[str, str, str, str]]:
    """Table rows: CPU per unit in all, what that allows on this machine's cores, and by process.
    `scale` turns seconds per unit into the `shown` unit (1e3 for ms, 1e6 for µs)."""
    per_unit = sum(spent.values()) / units
    cores = os.cpu_count() or 1
    rows = [
        (
            f"CPU per {unit}, all processes",
            f"{per_unit * scale:,.1f} {shown}",
            f"{cores} cores",
            f"at most {cores / per_unit:,.0f} {unit}s/s",
        )
    ]
    parts = ", ".join(f"{name} {seconds / units * scale:,.1f}" for name, seconds in spent.items())
    rows.append((f"  by process ({shown} per {unit})", parts, "-", "-"))
    return rows
