"""The mode header and the subject scheme."""

from __future__ import annotations

import pytest

from shared import subjects
from shared.contracts.tenants import check_tenant_id
from shared.modes import InvalidModeError, Mode, mode_from_header


@pytest.mark.parametrize(
    ("header", "mode"),
    [
        (None, Mode.prod),
        ("false", Mode.prod),
        ("true", Mode.demo),
        ("True", Mode.demo),
        (" FALSE ", Mode.prod),
    ],
)
def test_the_demo_header_selects_the_mode(header: str | None, mode: Mode) -> None:
    assert mode_from_header(header) is mode


@pytest.mark.parametrize("header", ["yes", "1", "", "demo"])
def test_any_other_header_value_is_refused(header: str) -> None:
    with pytest.raises(InvalidModeError):
        mode_from_header(header)


def test_subjects_follow_the_scheme_and_can_be_read_back() -> None:
    subject = subjects.event(Mode.demo, "acme", "tenant", "accepted")
    assert subject == "ecp.demo.evt.acme.tenant.accepted"
    assert subjects.tenant_of(subject) == "acme"
    assert subjects.event_name_of(subject) == "tenant.accepted"
    assert (
        subjects.command(Mode.prod, "acme", "tenant", "create") == "ecp.prod.cmd.acme.tenant.create"
    )
    names = [s.name for s in subjects.streams(Mode.prod, 60)]
    assert names == ["ECP_PROD_CMD", "ECP_PROD_EVT", "ECP_PROD_METRICS", "ECP_PROD_DLQ"]


@pytest.mark.parametrize("good", ["a", "acme", "my-ai-service", "x1-2-3", "a" * 56])
def test_dns_labels_are_valid_tenant_ids(good: str) -> None:
    assert check_tenant_id(good) == good


@pytest.mark.parametrize("bad", ["", "A", "-a", "a-", "a_b", "a.b", "a b", "a" * 57, "ä"])
def test_other_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="DNS-1123"):
        check_tenant_id(bad)
