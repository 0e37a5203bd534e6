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
    # A tenant command stored but not answered after this long is sent again (same dedupe id).
    reconcile_after_seconds: float = 10.0
    reconcile_interval_seconds: float = 15.0
    # Pushes of a tenant that arrive while its last message is in flight wait this much longer
    # for more to join them (a lone push never waits): every metrics message costs the broker
    # and each of its readers about the same whatever its size.
    push_linger_ms: float = Field(default=5.0, ge=0, le=100)

    # Every service.
    service_name: str = "ecp"
    metrics_port: int = 0  # 0: no separate /metrics listener
    log_level: str = "INFO"
    log_json: bool = True
    # Connections each service keeps per database, and half as many more for a peak; those are
    # closed once returned. A burst above the kept ones costs a new backend each time (a fork,
    # authentication, type introspection: several ms of CPU on both sides).
    db_pool_size: int = Field(default=20, ge=1, le=200)

    # Delivery rules.
    max_deliver: int = Field(default=5, ge=2)
    retry_base_seconds: float = Field(default=0.5, gt=0)
    retry_max_seconds: float = Field(default=30.0, gt=0)
    ack_wait_seconds: float = Field(default=30.0, gt=0)
    duplicate_window_seconds: float = 120.0
    metrics_stream_max_age_seconds: float = 3600.0

    # Calculator.
    catalogue_path: Path | None = None

    # Manifest.
    kubernetes_version: str = "1.30"
    cluster_gpu_capacity: int | None = None  # GPUs the target cluster has, for validation
    # Validation of a manifest for a tenant the service has no sizing of: GPUs a server of each
    # type holds (the catalogue's gpus_per_server) and the price of a GPU hour (T4's).
    gpus_per_server: dict[str, int] = Field(default_factory=lambda: {"T4": 4, "V100": 2, "L40S": 2})
    default_usd_per_gpu_hour: float | None = 0.35

    # Deployer. Prod talks to Kubernetes (seed: KUBERNETES_CONFIG_PATH, else in-cluster).
    kubernetes_config_path: str = ""
    kubernetes_in_cluster: bool = False
    virtual_cluster_file: Path | None = None
    rollout_seconds_per_replica: float = 0.5  # demo: simulated time; 0 in tests and benchmarks
    rollout_timeout_seconds: float = 600.0
    simulation_seed: int | None = None
    auto_deploy_demo: bool = True
    auto_deploy_prod: bool = False

    # Monitor (seed: MONITORING_ENDPOINT is a Prometheus server for the pull mode).
    monitoring_endpoint: str = ""
    monitoring_pull_interval_seconds: float = 30.0
    metrics_retention_days: int = 30
    metrics_partitions_ahead_days: int = 3
    metrics_batch_size: int = 500
    metrics_ingest_concurrency: int = Field(default=4, ge=1, le=16)  # batches stored at once
    metrics_max_future_seconds: float = 300.0
    demo_metrics_enabled: bool = True
    demo_metrics_interval_seconds: float = 15.0
    demo_metrics_seed: int = 42

    # Alerts.
    webhook_allowed_hosts: list[str] = Field(default_factory=list)  # loopback/private hosts allowed
    webhook_timeout_seconds: float = 5.0
    notification_max_tries: int = 5
    notification_retry_base_seconds: float = 1.0
    alert_repeat_interval_seconds: float = 4 * 3600.0
    alert_stale_after_seconds: float = 300.0
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_tls: bool = False
    smtp_sender: str = "ecp-alerts@localhost"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
