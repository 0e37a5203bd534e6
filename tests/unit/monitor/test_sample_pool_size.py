"""The sample pool holds more connections than batches are stored at once: with every ingest
slot busy on a backlog, a dashboard's query and a new day's partition still get a connection."""

from __future__ import annotations

import pytest

from services.monitor.handlers import sample_stores
from shared.settings import Settings


@pytest.mark.parametrize("concurrency", [1, 4, 16])
def test_queries_and_partitions_keep_a_connection_beside_ingest(concurrency: int) -> None:
    settings = Settings(metrics_ingest_concurrency=concurrency)
    for store in sample_stores(settings).values():
        assert store.max_connections >= concurrency + 2
