"""Fixtures: real NATS and PostgreSQL, settings pointing at them, the whole system."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from unittest.mock import patch

import pytest

from shared.settings import Settings
from tests.support.servers import Servers, fresh_databases, test_servers
from tests.support.system import RunningSystem


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    with test_servers() as found:
        yield found


@pytest.fixture(scope="session")
async def database_urls(servers: Servers) -> AsyncIterator[dict[str, str]]:
    async with fresh_databases(servers.postgres_admin_url, "ecp_test") as urls:
        yield urls


def environment_for(nats_url: str, database_urls: dict[str, str]) -> dict[str, str]:
    """The environment every service of a test system gets."""
    return {
        "ECP_NATS_URL": nats_url,
        "ECP_DATABASE_URL": database_urls["prod"],
        "ECP_DEMO_DATABASE_URL": database_urls["demo"],
        "ECP_RETRY_BASE_SECONDS": "0.05",
        "ECP_RETRY_MAX_SECONDS": "0.5",
        "ECP_LOG_LEVEL": "INFO",
        "ECP_ROLLOUT_SECONDS_PER_REPLICA": "0",
        "ECP_VIRTUAL_CLUSTER_FILE": str(
            Path(__file__).parent / "support" / "virtual-cluster-e2e.yaml"
        ),
        "ECP_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1", "localhost"]',
        "ECP_CREATE_WAIT_SECONDS": "20",
        "ECP_RECONCILE_AFTER_SECONDS": "2",
        "ECP_RECONCILE_INTERVAL_SECONDS": "1",
    }


def settings_from(env: dict[str, str]) -> Settings:
    with patch.dict(os.environ, env):
        return Settings(log_json=False, auth_enabled=True)


@pytest.fixture(scope="session")
def settings_env(servers: Servers, database_urls: dict[str, str]) -> dict[str, str]:
    return environment_for(servers.nats_url, database_urls)


@pytest.fixture(scope="session")
def settings(settings_env: dict[str, str]) -> Settings:
    return settings_from(settings_env)


@pytest.fixture(scope="session")
def system(settings_env: dict[str, str]) -> Iterator[RunningSystem]:
    running = RunningSystem(settings_env, Path(tempfile.mkdtemp(prefix="ecp-system-")))
    try:
        running.start()
        yield running
    finally:
        running.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker in ("unit", "integration", "e2e"):
            if f"/{marker}/" in str(item.fspath):
                item.add_marker(getattr(pytest.mark, marker))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: a missing server must not pass for green."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped:
        reporter.write_line(f"CI: {skipped} test(s) skipped; counted as failure", red=True)
        session.exitstatus = 1
