"""`ecp up` (what `make run` calls): embedded servers, every service, a clean stop, kept data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from shared.embedded import free_port

ECP = str(Path(sys.executable).parent / "ecp")


def start(
    data_dir: Path, gateway_port: int, server_ports: tuple[int, int] | None = None
) -> subprocess.Popen[str]:
    nats_port, postgres_port = server_ports or (free_port(), free_port())
    env = {key: value for key, value in os.environ.items() if not key.startswith("ECP_")}
    env.update(
        ECP_DATA_DIR=str(data_dir),
        ECP_GATEWAY_PORT=str(gateway_port),
        ECP_EMBEDDED_NATS_PORT=str(nats_port),
        ECP_EMBEDDED_POSTGRES_PORT=str(postgres_port),
    )
    return subprocess.Popen(
        [ECP, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_for_line(process: subprocess.Popen[str], text: str, timeout: float = 120) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"{text!r} not printed; output: {''.join(lines)}")


def test_ecp_up_serves_stops_on_ctrl_c_and_keeps_its_data() -> None:
    with tempfile.TemporaryDirectory(prefix="ecp-up-", ignore_cleanup_errors=True) as data_dir:
        serves_stops_and_keeps_its_data(Path(data_dir))


def serves_stops_and_keeps_its_data(data_dir: Path) -> None:
    port = free_port()
    process = start(data_dir, port)
    try:
        lines = wait_for_line(process, "press Ctrl-C")
        assert any("admin API key: ecp_" in line for line in lines)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        created = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/tenants/",
            headers={"X-Demo-Mode": "true"},
            json={"tenant_id": "kept", "name": "kept", "service_requirements": {"chatbot": 5}},
            timeout=30,
        )
        assert created.status_code == 201
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
    assert "stopping" in (process.stdout.read() if process.stdout else "")
    # Nothing is left listening, and a second start finds the tenant again.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    servers = (free_port(), free_port())
    again = start(data_dir, port, servers)
    try:
        wait_for_line(again, "press Ctrl-C")
        tenants = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/tenants/", headers={"X-Demo-Mode": "true"}
        ).json()
        assert [t["tenant_id"] for t in tenants["tenants"]] == ["kept"]
    finally:
        # Ctrl-C twice: the second must not cut the shutdown short.
        again.send_signal(signal.SIGINT)
        wait_for_line(again, "stopping")
        again.send_signal(signal.SIGINT)
        assert again.wait(60) == 0
    for server_port in (port, *servers):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", server_port)) != 0, server_port


def test_a_taken_port_is_explained_in_one_line() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with tempfile.TemporaryDirectory(prefix="ecp-up-", ignore_cleanup_errors=True) as data:
            process = start(Path(data), taken)
            output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert (
        f"port {taken} for the gateway is taken by another program; set ECP_GATEWAY_PORT" in output
    )
    assert "Traceback" not in output
