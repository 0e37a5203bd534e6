"""compose.yaml runs the same system: every service, the seed's ports."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_every_service_from_one_image_on_the_seed_ports() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    for name in ("gateway", "calculator", "manifest", "deployer", "monitor", "alerts"):
        assert services[name]["command"] == ["python", "-m", f"services.{name}"]
        assert services[name]["image"] == "ecp-orchestrator:latest"
        assert (ROOT / "services" / name / "__main__.py").exists()
    assert services["gateway"]["ports"] == ["8001:8001"]
    assert services["postgres"]["ports"] == ["5433:5432"]
    assert services["postgres-demo"]["ports"] == ["5434:5432"]
    assert services["prometheus"]["ports"] == ["9090:9090"]
    assert services["grafana"]["ports"] == ["3001:3000"]
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["gateway:8001"]
