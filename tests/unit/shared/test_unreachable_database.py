"""Which errors say the database cannot be reached (the gateway answers them with a 503)."""

import asyncpg
import pytest

from shared.db import is_unreachable

pytestmark = pytest.mark.unit


def raised_from(cause: BaseException) -> RuntimeError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise RuntimeError("wrapped, as SQLAlchemy wraps a driver error") from inner
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    ],
)
def test_a_down_or_restarting_database_is_unreachable_even_when_wrapped(error: Exception) -> None:
    assert is_unreachable(error)
    assert is_unreachable(raised_from(error))


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad value"),
        asyncpg.UniqueViolationError("duplicate key"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        raised_from(KeyError("x")),
    ],
)
def test_other_errors_are_not(error: Exception) -> None:
    assert not is_unreachable(error)
