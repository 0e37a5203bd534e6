"""Integration tests run their service in-process on a NATS server and databases of their own,
so the whole-system processes of the e2e tests (same durable consumer names) never take their
messages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from shared.embedded import NatsServer, free_port
from shared.settings import Settings
from tests.conftest import environment_for, settings_from
from tests.support.servers import Servers, fresh_databases


@pytest.fixture(scope="package")
def private_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("integration-nats")
    server = NatsServer(free_port(), free_port(), root / "data")
    server.start(root / "nats.log")
    yield server.url
    server.stop()


@pytest.fixture(scope="package")
async def database_urls(servers: Servers) -> AsyncIterator[dict[str, str]]:
    async with fresh_databases(servers.postgres_admin_url, "ecp_it") as urls:
        yield urls


@pytest.fixture(scope="package")
def settings_env(private_nats: str, database_urls: dict[str, str]) -> dict[str, str]:
    return environment_for(private_nats, database_urls)


@pytest.fixture(scope="package")
def settings(settings_env: dict[str, str]) -> Settings:
    return settings_from(settings_env)
