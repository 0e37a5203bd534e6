from pathlib import Path
from typing import Any

import pytest
import yaml

from services.calculator.catalogue import CatalogueError, default_catalogue_path, load_catalogue

pytestmark = pytest.mark.unit


def shipped_data() -> dict[str, Any]:
    return yaml.safe_load(default_catalogue_path().read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_catalogue_loads_with_every_gpu_profile_and_preset() -> None:
    catalogue = load_catalogue(default_catalogue_path())
    assert catalogue.version
    assert list(catalogue.gpu_profiles) == ["T4", "V100", "L40S"]
    assert [p.name for p in catalogue.presets] == ["micro", "small", "medium", "large"]
    assert catalogue.gpu_profiles["T4"].node_selector == {"nvidia.com/gpu.product": "Tesla-T4"}
    assert catalogue.krw_per_usd == 1300
    assert catalogue.hours_per_month == 730


def test_a_non_positive_gpu_capacity_is_refused_naming_the_entry(tmp_path: Path) -> None:
    data = shipped_data()
    data["gpu_profiles"]["T4"]["nlp_queries_per_second"] = 0
    with pytest.raises(
        CatalogueError, match=r"gpu_profiles\.T4\.nlp_queries_per_second: must be > 0"
    ):
        load_catalogue(write(tmp_path, data))


def test_a_missing_figure_is_refused_naming_the_entry(tmp_path: Path) -> None:
    data = shipped_data()
    del data["presets"][1]["hpa"]
    with pytest.raises(CatalogueError, match=r"presets\.1\.hpa: is required"):
        load_catalogue(write(tmp_path, data))


def test_an_unknown_field_is_refused_naming_it(tmp_path: Path) -> None:
    data = shipped_data()
    data["gpu_profiles"]["V100"]["nlp_qps"] = 3
    with pytest.raises(CatalogueError, match=r"gpu_profiles\.V100\.nlp_qps: unknown entry"):
        load_catalogue(write(tmp_path, data))


def test_an_image_tagged_latest_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    data["services"]["stt"]["image"] = "ecp-ai/stt:latest"
    with pytest.raises(CatalogueError, match=r"services\.stt\.image: .*never 'latest'"):
        load_catalogue(write(tmp_path, data))


def test_presets_out_of_order_are_refused(tmp_path: Path) -> None:
    data = shipped_data()
    data["presets"][0], data["presets"][1] = data["presets"][1], data["presets"][0]
    with pytest.raises(CatalogueError, match=r"presets: must be micro, small, medium, large"):
        load_catalogue(write(tmp_path, data))


def test_a_cloud_gpu_family_without_a_profile_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    data["clouds"]["aws"]["gpu_families"]["A10G"] = "g5"
    with pytest.raises(
        CatalogueError, match=r"clouds\.aws\.gpu_families\.A10G: no such gpu profile"
    ):
        load_catalogue(write(tmp_path, data))


def test_gpu_pods_larger_than_their_host_are_refused(tmp_path: Path) -> None:
    data = shipped_data()
    data["gpu_profiles"]["T4"]["pod_limits"]["cpu_millicores"] = 8000
    with pytest.raises(CatalogueError, match=r"gpu_profiles\.T4: .*exceed host_cores"):
        load_catalogue(write(tmp_path, data))


def test_a_missing_file_raises_catalogue_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "absent.yaml")


def test_a_file_that_is_not_a_mapping_raises_catalogue_error(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="must be a mapping"):
        load_catalogue(path)
