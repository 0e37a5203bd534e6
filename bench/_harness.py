"""What benchmarks share: a running system on fresh servers, percentiles, a printed table."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from tests.support.servers import Servers, test_servers, unique_name
from tests.support.system import RunningSystem


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples_s: list[float]) -> dict[str, float]:
    ms = [s * 1e3 for s in samples_s]
    return {
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
    }


def print_table(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    """Rows of (measure, figure, baseline, ratio)."""
    header = ("measure", "figure", "baseline", "ratio")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    print(title)
    for row in [header, *rows]:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


async def _databases(servers: Servers) -> dict[str, str]:
    conn = await asyncpg.connect(servers.postgres_admin_url)
    names = {"prod": unique_name("ecp_bench"), "demo": unique_name("ecp_bench_demo")}
    for name in names.values():
        await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base = servers.postgres_admin_url.rsplit("/", 1)[0]
    return {mode: f"{base}/{name}" for mode, name in names.items()}


@contextmanager
def running_system(**env: str) -> Iterator[tuple[RunningSystem, Servers, dict[str, str]]]:
    """The whole system, as `make run` starts it, on servers of its own."""
    with test_servers() as servers:
        urls = asyncio.run(_databases(servers))
        system = RunningSystem(
            {
                "ECP_NATS_URL": servers.nats_url,
                "ECP_DATABASE_URL": urls["prod"],
                "ECP_DEMO_DATABASE_URL": urls["demo"],
                "ECP_LOG_LEVEL": "WARNING",
                "ECP_ROLLOUT_SECONDS_PER_REPLICA": "0",
                **env,
            },
            Path(tempfile.mkdtemp(prefix="ecp-bench-")),
        )
        system.start()
        try:
            yield system, servers, urls
        except BaseException:
            print(f"the services' logs are kept in {system.log_dir}")
            raise
        finally:
            system.stop()
        shutil.rmtree(system.log_dir, ignore_errors=True)
