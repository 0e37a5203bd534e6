"""The `ecp` command line: options anywhere, usage errors exit 2, tables for people."""

from __future__ import annotations

import pytest

from ecp_client.cli import main
from ecp_client.cli.commands import UsageError, parse_samples
from ecp_client.cli.output import render

pytestmark = pytest.mark.unit


def test_global_options_may_come_before_or_after_the_command() -> None:
    from ecp_client.cli.parser import build_parser

    parser, _ = build_parser()
    before = parser.parse_args(["--demo", "-o", "json", "tenants", "get", "t"])
    after = parser.parse_args(["tenants", "get", "t", "--demo", "-o", "json"])
    for args in (before, after):
        assert (args.demo, args.output, args.tenant_id) == (True, "json", "t")
    assert parser.parse_args(["tenants", "list"]).demo is False  # prod, as the API


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["tenants", "create"])  # -f is required
    assert caught.value.code == 2


def test_the_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for line in ("0  ok", "1  the API", "2  usage", "3  the server", "4  a followed"):
        assert line in text


def test_metric_samples_are_name_equals_number() -> None:
    assert parse_samples(["cpu_usage=65", "request_count=1250"]) == {
        "cpu_usage": 65.0,
        "request_count": 1250.0,
    }
    for bad in ("cpu_usage", "=5", "cpu=high"):
        with pytest.raises(UsageError):
            parse_samples([bad])


def test_a_table_shows_the_chosen_columns_and_the_totals() -> None:
    answer = {"tenants": [{"tenant_id": "a", "status": "running", "x": 1}], "total_count": 1}
    text = render(answer, "table", rows_key="tenants", columns=("tenant_id", "status"))
    lines = text.splitlines()
    assert lines[0].split() == ["TENANT_ID", "STATUS"]
    assert lines[1].split() == ["a", "running"]
    assert "total_count" in text and "x" not in lines[0]


def test_json_and_yaml_output_show_everything() -> None:
    assert '"x": 1' in render({"x": 1}, "json")
    assert render({"x": 1}, "yaml") == "x: 1"
