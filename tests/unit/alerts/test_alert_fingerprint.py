"""Alert fingerprints: stable, order-free, and distinct for distinct alerts."""

import re

import pytest

from services.alerts.rules import fingerprint

pytestmark = pytest.mark.unit


def test_a_fingerprint_is_sixteen_hex_digits_and_stable():
    value = fingerprint("acme", "high_cpu_usage", {"severity": "warning"})
    assert re.fullmatch(r"[0-9a-f]{16}", value)
    # Pinned: a change here would re-key every stored alert and notification log entry.
    assert value == "851c26ddfde2c6a1"


def test_label_order_does_not_change_the_fingerprint():
    one = fingerprint("acme", "r", {"a": "1", "b": "2"})
    assert one == fingerprint("acme", "r", {"b": "2", "a": "1"})


def test_tenant_rule_and_labels_each_change_the_fingerprint():
    base = fingerprint("acme", "r", {"a": "1"})
    assert base != fingerprint("other", "r", {"a": "1"})
    assert base != fingerprint("acme", "s", {"a": "1"})
    assert base != fingerprint("acme", "r", {"a": "2"})


def test_separators_inside_labels_cannot_make_two_alerts_collide():
    assert fingerprint("t", "r", {"a": "1,b=2"}) != fingerprint("t", "r", {"a": "1", "b": "2"})


def test_labels_cannot_override_the_tenant_or_the_rule_name():
    plain = fingerprint("acme", "r", {})
    assert plain == fingerprint("acme", "r", {"tenant_id": "evil", "alertname": "x"})
