"""The whole system as users run it: every service a process of its own, the gateway on a
free port, against the test servers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from shared.embedded import free_port

SERVICES = ("calculator", "manifest", "deployer", "monitor", "alerts", "gateway")
ROOT = Path(__file__).resolve().parents[2]


class RunningSystem:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.key_file = log_dir / "admin-key"
        self.env = {
            **os.environ,
            **env,
            "ECP_GATEWAY_PORT": str(self.port),
            "ECP_BOOTSTRAP_KEY_FILE": str(self.key_file),
            "ECP_LOG_JSON": "true",
        }
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_key(self) -> str:
        return self.key_file.read_text().strip()

    def start_service(self, name: str) -> None:
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )

    def stop_service(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start(self, timeout: float = 90) -> None:
        for name in SERVICES:
            self.start_service(name)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited: {self.log_tail(name)}")
            try:
                reply = httpx.get(f"{self.base_url}/readyz", timeout=3)
                if reply.status_code == 200:
                    return
                last = reply.text
            except httpx.HTTPError as error:
                last = repr(error)
            time.sleep(0.2)
        raise RuntimeError(f"system not ready in {timeout} s: {last}")

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.log_dir / f"{name}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_service(name)
