"""`ecp deploy --follow`: start a deployment and show its progress from `/ws/events` to the end."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from ecp_client import ECPClient, calls, live
from ecp_client.errors import ECPError

FINISHED = {
    "deployment.succeeded": True,
    "deployment.rolled-back": True,
    "deployment.failed": False,
}
FINAL_STATES = {"succeeded": True, "rolled-back": True, "failed": False}
# Steps before the rollout, in the order the deployer reports them: they fill the first part.
PHASES = ("started", "validate", "dry-run", "namespace", "quota", "config", "workload")
BAR_WIDTH = 30
POLL_SECONDS = 5.0


@dataclass
class ProgressBar:
    """A bar on stderr: redrawn in place on a terminal, one line per step otherwise."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    fraction: float = 0.0

    def update(self, event: dict[str, Any]) -> None:
        data = event.get("data", {})
        step, status = str(data.get("step", "")), str(data.get("status", ""))
        detail = data.get("detail") or {}
        if detail.get("desired_total"):
            rollout = detail.get("ready_total", 0) / detail["desired_total"]
            self.fraction = max(self.fraction, 0.4 + 0.6 * rollout)
        elif step == "done":
            self.fraction = 1.0
        else:
            phase = step.split("/")[0]
            index = PHASES.index(phase) + 1 if phase in PHASES else 1
            self.fraction = max(self.fraction, 0.4 * index / len(PHASES))
        self.draw(f"{step} {status} {data.get('message', '')}".strip())

    def draw(self, text: str) -> None:
        filled = round(self.fraction * BAR_WIDTH)
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.fraction:4.0%}  {text}"
        if self.stream.isatty():
            self.stream.write("\r\033[K" + bar[:150])
        else:
            self.stream.write(bar + "\n")
        self.stream.flush()

    def finish(self, text: str) -> None:
        if self.stream.isatty():
            self.stream.write("\n")
        self.stream.write(text + "\n")
        self.stream.flush()


def finished_by_status(client: ECPClient, tenant_id: str, deployment_id: str) -> bool | None:
    """The outcome from GET .../deployment when the events went quiet; None while it runs."""
    current = client.get_deployment(tenant_id).get("deployment") or {}
    if current.get("deployment_id") != deployment_id:
        return None
    return FINAL_STATES.get(str(current.get("state")))


def follow(
    client: ECPClient,
    tenant_id: str,
    start: Callable[[], dict[str, Any]],
    timeout: float,
    bar: ProgressBar,
) -> tuple[bool, dict[str, Any]]:
    """Listen first, then `start()` the deployment: no event can be missed. (ok, last event)."""
    url = live.events_url(calls.ws_root(client.root), tenant_id)
    try:
        with connect(url, additional_headers=client.headers, open_timeout=10) as ws:
            accepted = start()
            deployment_id = accepted["deployment_id"]
            bar.draw(f"{deployment_id} queued (revision {accepted.get('revision')})")
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                try:
                    event = json.loads(ws.recv(timeout=min(left, POLL_SECONDS)))
                except TimeoutError:
                    outcome = finished_by_status(client, tenant_id, deployment_id)
                    if outcome is not None:
                        return outcome, {"event": "status", "data": accepted}
                    continue
                if event.get("data", {}).get("deployment_id") != deployment_id:
                    continue
                name = event.get("event", "")
                if name in FINISHED:
                    return FINISHED[name], event
                bar.update(event)
    except (OSError, WebSocketException) as error:
        raise live.refused(error, url) from error
    raise ECPError(0, "FOLLOW_TIMEOUT", f"no outcome within {timeout:g} s; the deployment goes on")
