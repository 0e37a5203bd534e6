"""The gateway's own database, migrated, for tests of its store and projection without a
running gateway (only `db` of the gateway's state is there)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

import services.gateway
from services.gateway.deps import Gateway
from shared.db import Databases
from shared.settings import Settings


@pytest.fixture(scope="module")
async def gateway(settings: Settings):
    db = Databases(settings)
    await db.migrate("gateway", Path(services.gateway.__file__).parent / "migrations")
    yield cast(Gateway, SimpleNamespace(db=db))
    await db.dispose()
