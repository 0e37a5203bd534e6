"""No request of the API goes through FastAPI's thread pool for a dependency: a plain `def`
dependency is run there, two thread hand-offs for every request that uses it."""

import inspect
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute

from services.gateway.app import create_app
from shared.settings import Settings


def sync_dependencies(dependant: Dependant) -> list[str]:
    found = []
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and not inspect.iscoroutinefunction(call):
            found.append(getattr(call, "__qualname__", repr(call)))
        found += sync_dependencies(sub)
    return found


def api_routes(routes: list[Any]) -> list[APIRoute | APIWebSocketRoute]:
    """The routes, those of included routers too."""
    found: list[APIRoute | APIWebSocketRoute] = []
    for route in routes:
        if isinstance(route, APIRoute | APIWebSocketRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def test_every_dependency_of_every_route_is_async():
    settings = Settings(
        database_url="postgresql://nobody@127.0.0.1/unused",
        demo_database_url="postgresql://nobody@127.0.0.1/unused_demo",
    )
    routes = api_routes(create_app(settings).routes)
    assert len(routes) > 20  # the API's routes were found
    offenders = {
        f"{route.path}: {name}" for route in routes for name in sync_dependencies(route.dependant)
    }
    assert not offenders
