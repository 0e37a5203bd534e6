"""All configuration, read once from `ECP_*` environment variables (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECP_", env_file=".env", extra="ignore")

    # Servers. Empty means "start the embedded one" for `ecp up`; services require them set.
    nats_url: str = ""
    database_url: str = ""
    demo_database_url: str = ""

    # `ecp up`: embedded servers and where their data lives.
    data_dir: Path = PROJECT_ROOT / ".ecp"
    embedded_nats_port: int = 4223
    embedded_postgres_port: int = 5433

    # Gateway.
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8001
    auth_enabled: bool = True
    bootstrap_key_file: Path | None = None  # where a first start leaves an admin key
    rpc_timeout_seconds: float = 5.0
    create_wait_seconds: float = 10.0
    cors_origins: list[str] = Field(default_factory=list)

    # Every service.
    service_name: str = "ecp"
    metrics_port: int = 0  # 0: no separate /metrics listener
    log_level: str = "INFO"
    log_json: bool = True

    # Delivery rules.
    max_deliver: int = Field(default=5, ge=2)
    retry_base_seconds: float = Field(default=0.5, gt=0)
    retry_max_seconds: float = Field(default=30.0, gt=0)
    ack_wait_seconds: float = Field(default=30.0, gt=0)
    duplicate_window_seconds: float = 120.0
    metrics_stream_max_age_seconds: float = 3600.0

    # Calculator.
    catalogue_path: Path | None = None

    # Monitoring (seed: MONITORING_ENDPOINT) and Kubernetes (seed: KUBERNETES_CONFIG_PATH).
    monitoring_endpoint: str = ""
    kubernetes_config_path: str = ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
