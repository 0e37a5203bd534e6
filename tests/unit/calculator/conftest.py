"""The shipped catalogue, loaded once for the calculator's unit tests."""

from __future__ import annotations

import pytest

from services.calculator.catalogue import Catalogue, default_catalogue_path, load_catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(default_catalogue_path())
