"""`ecp up`: embedded NATS and PostgreSQL (unless URLs are given), then every service."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from shared.embedded import (
    EmbeddedServerError,
    NatsServer,
    PostgresServer,
    free_port,
    require_free_port,
)
from shared.settings import PROJECT_ROOT, Settings

SERVICES = ("calculator", "manifest", "deployer", "monitor", "alerts", "gateway")
PROD_DATABASE, DEMO_DATABASE = "ecp_orchestrator", "ecp_orchestrator_demo"


def say(text: str) -> None:
    print(f"ecp: {text}", flush=True)


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir
        self.nats: NatsServer | None = None
        self.postgres: PostgresServer | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start_servers(self) -> dict[str, str]:
        env: dict[str, str] = {}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.settings.nats_url:
            env["ECP_NATS_URL"] = self.settings.nats_url
        else:
            port = self.settings.embedded_nats_port
            # Its monitoring port is only for our health check, so any free port serves.
            self.nats = NatsServer(port, free_port(), self.data_dir / "nats")
            self.nats.start(self.data_dir / "nats.log")
            env["ECP_NATS_URL"] = self.nats.url
            say(f"NATS with JetStream on {self.nats.url} (data in {self.data_dir / 'nats'})")
        if self.settings.database_url and self.settings.demo_database_url:
            env["ECP_DATABASE_URL"] = self.settings.database_url
            env["ECP_DEMO_DATABASE_URL"] = self.settings.demo_database_url
        else:
            self.postgres = PostgresServer(
                self.data_dir / "postgres", self.settings.embedded_postgres_port
            )
            self.postgres.init()
            self.postgres.start()
            for name in (PROD_DATABASE, DEMO_DATABASE):
                self.postgres.create_database(name)
            env["ECP_DATABASE_URL"] = self.postgres.url(PROD_DATABASE)
            env["ECP_DEMO_DATABASE_URL"] = self.postgres.url(DEMO_DATABASE)
            say(
                f"PostgreSQL on 127.0.0.1:{self.postgres.port} (databases {PROD_DATABASE}, {DEMO_DATABASE})"
            )
        return env

    def start_services(self, env: dict[str, str]) -> None:
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        service_env = {
            **os.environ,
            **env,
            "ECP_BOOTSTRAP_KEY_FILE": str(self.data_dir / "admin-key"),
        }
        for name in SERVICES:
            out = (logs / f"{name}.log").open("ab")
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"],
                cwd=PROJECT_ROOT,
                env=service_env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        say(f"services started; logs in {logs}")

    def wait_ready(self, timeout: float = 120) -> None:
        url = f"http://{self.settings.gateway_host}:{self.settings.gateway_port}/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(url, timeout=3) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise EmbeddedServerError(
            f"the system was not ready within {timeout:.0f} s; see {self.data_dir / 'logs'}"
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = self.data_dir / "logs" / f"{name}.log"
                tail = (
                    log.read_text(errors="replace").strip().splitlines()[-1:]
                    if log.exists()
                    else []
                )
                raise EmbeddedServerError(
                    f"{name} exited with code {process.returncode}: {' '.join(tail)}"
                )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.postgres:
            self.postgres.stop()
        if self.nats:
            self.nats.stop()


def up(settings: Settings) -> int:
    stack = Stack(settings)
    try:
        require_free_port(settings.gateway_port, "the gateway", "ECP_GATEWAY_PORT")
        stack.start_services(stack.start_servers())
        stack.wait_ready()
        base = f"http://{settings.gateway_host}:{settings.gateway_port}"
        say(f"ready: API {base}/api/v1   docs {base}/docs   metrics {base}/metrics   UI {base}/")
        key_file = settings.data_dir / "admin-key"
        if not settings.auth_enabled:
            say("AUTHENTICATION IS OFF (ECP_AUTH_ENABLED=false)")
        elif key_file.exists():
            say(f"admin API key: {key_file.read_text().strip()}   (kept in {key_file})")
        say("press Ctrl-C to stop")
        while True:
            stack.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        ignore_interrupts()
        say("stopping")
        return 0
    except EmbeddedServerError as error:
        say(f"cannot start: {error}")
        return 1
    finally:
        ignore_interrupts()
        stack.stop()


def ignore_interrupts() -> None:
    """A second Ctrl-C (an impatient user, a supervisor) must not cut the shutdown short: it
    would leave the embedded servers running, holding their ports and data."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _on_term(*_: object) -> None:
    raise KeyboardInterrupt


def run_up(settings: Settings) -> int:
    signal.signal(signal.SIGTERM, _on_term)
    try:
        return up(settings)
    except KeyboardInterrupt:
        # The second of two quick Ctrl-Cs, raised before the first one's handling ignored it;
        # `up` has stopped everything on its way out.
        return 0


__all__ = ["run_up"]
