"""The operator UI in headless Chromium against the whole system: the wizard creates a demo
tenant that reaches running, its manifest shows, a pushed metric lands on the chart, an alert
rule fires; errors, the prod switch and the language switch behave."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest

from tests.e2e.ui.conftest import screenshot
from tests.support.system import RunningSystem

pytestmark = pytest.mark.e2e
DEMO = {"X-Demo-Mode": "true"}
WAIT_MS = 30_000


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def push(system: RunningSystem, tenant: str, metrics: dict[str, float]) -> None:
    body = {"timestamp": datetime.now(UTC).isoformat(), "metrics": metrics}
    reply = httpx.post(
        f"{system.base_url}/api/v1/tenants/{tenant}/monitoring", json=body, headers=DEMO, timeout=10
    )
    assert reply.status_code == 202, reply.text


def delete_tenant(system: RunningSystem, tenant: str) -> None:
    httpx.delete(f"{system.base_url}/api/v1/tenants/{tenant}", headers=DEMO, timeout=30)


def test_wizard_creates_a_demo_tenant_that_runs_shows_its_manifest_chart_and_alert(
    system: RunningSystem, page
) -> None:
    tenant = f"ui-{uuid4().hex[:8]}"
    try:
        page.goto(f"{system.base_url}/")
        expect(page.locator("nav a[data-section=tenants]")).to_have_text("테넌트")
        expect(page.locator("#modebar")).to_have_class(re.compile(r"\bdemo\b"))
        screenshot(page, "01-tenants")

        # The wizard: requirements, the calculator's answer, then the creation.
        page.click("#new-tenant")
        page.fill("#f-tenant_id", tenant)
        page.fill("#f-name", "UI 테스트 고객센터")
        page.fill("#f-svc-stt", "5")
        expect(page.locator("#create-tenant")).to_be_disabled()
        page.click("#calculate")
        expect(page.locator("#sizing-preset .tile-value")).to_have_text("micro")
        expect(page.locator("#sizing-cost .tile-value")).to_contain_text("$")
        expect(page.locator("#gpu-roles tbody tr")).to_have_count(3)
        expect(page.locator("#explain tbody tr").first).to_be_visible()
        screenshot(page, "02-wizard-sizing")
        status = httpx.get(f"{system.base_url}/api/v1/tenants/{tenant}", headers=DEMO)
        assert status.status_code == 404, "calculating must not create the tenant"
        page.click("#create-tenant")
        page.wait_for_url(re.compile(rf"#/tenants/{tenant}$"))

        # Auto-deploy in demo: the status badge follows /ws/events to running.
        expect(page.locator("#tenant-status [data-status=running]")).to_be_visible(timeout=WAIT_MS)
        # A deploy from the page shows its progress live.
        page.click("#deploy")
        expect(page.locator('#progress-log li[data-event="deployment.started"]')).to_be_visible(
            timeout=WAIT_MS
        )
        expect(page.locator('#progress-log li[data-event="deployment.succeeded"]')).to_be_visible(
            timeout=WAIT_MS
        )
        expect(page.locator("#tenant-status [data-status=running]")).to_be_visible(timeout=WAIT_MS)

        # The manifest: highlighted YAML and a download of the same text.
        yaml = page.locator("#manifest pre.yaml")
        expect(yaml).to_contain_text("kind: Namespace")
        expect(yaml).to_contain_text(f"ecp-ai-{tenant}")
        assert page.locator("#manifest .y-key").count() > 20
        with page.expect_download() as download_info:
            page.click("#manifest-download")
        download = download_info.value
        assert download.suggested_filename == f"{tenant}-r1.yaml"
        assert "kind: Deployment" in download.path().read_text()
        expect(page.locator("#placement .node.mine").first).to_be_visible()
        screenshot(page, "03-tenant")

        # Monitoring: a pushed value arrives on the CPU chart through /ws/monitoring.
        page.goto(f"{system.base_url}/#/monitoring/{tenant}")
        expect(page.locator(".live-dot[data-state=open]")).to_be_visible(timeout=WAIT_MS)
        # The socket opens a moment before the gateway follows the tenant's samples: push
        # until the value is drawn (each push is a new point of the same value).
        pushed = page.locator("#chart-cpu svg title", has_text="cpu_usage 73.25")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            push(system, tenant, {"cpu_usage": 73.25, "memory_usage": 41.5, "response_time": 180})
            try:
                expect(pushed.first).to_be_attached(timeout=2_000)
                break
            except AssertionError:
                continue
        else:
            # Not drawn live on a loaded machine: the same samples must then come from history.
            print("the pushed sample was not drawn live within 20 s; checking the history")
            page.reload()
        expect(pushed.first).to_be_attached(timeout=WAIT_MS)
        expect(
            page.locator("#chart-response_time svg title", has_text="180").first
        ).to_be_attached()
        # History from GET .../monitoring shows the stored sample after a reload too.
        page.reload()
        expect(pushed.first).to_be_attached(timeout=WAIT_MS)
        screenshot(page, "04-monitoring")

        # Alerts: a bad condition is shown under the field at its column; a good rule fires.
        page.goto(f"{system.base_url}/#/alerts/{tenant}")
        expect(page.locator("#alert-history .empty")).to_be_visible(timeout=WAIT_MS)
        page.fill("#rule-alert_name", "ui_high_cpu")
        page.fill("#rule-condition", "cpu_usage >> 80")
        page.fill("#rule-duration", "0s")
        page.click("#rule-create")
        expect(page.locator("#err-condition pre.caret")).to_have_attribute("data-column", "12")
        expect(page.locator("#err-condition")).to_contain_text("column 12")
        screenshot(page, "05-alerts-invalid-condition")
        page.fill("#rule-condition", "cpu_usage > 80")
        page.click("#rule-create")
        rule_row = page.locator('#rules-table tr[data-rule="ui_high_cpu"]')
        expect(rule_row).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#err-condition")).to_be_empty()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            push(system, tenant, {"cpu_usage": 95})
            try:
                expect(rule_row).to_have_attribute("data-state", "firing", timeout=2_000)
                break
            except AssertionError:
                continue
        expect(rule_row).to_have_attribute("data-state", "firing")
        expect(
            page.locator('#history-table tr[data-status=firing][data-rule="ui_high_cpu"]')
        ).to_be_visible(timeout=WAIT_MS)
        screenshot(page, "06-alerts-firing")
        assert page.page_errors == []
    except BaseException:
        screenshot(page, "failure-wizard-flow")
        raise
    finally:
        delete_tenant(system, tenant)


def test_errors_are_shown_in_words_and_prod_switch_sends_the_key_and_the_header(
    system: RunningSystem, page
) -> None:
    page.goto(f"{system.base_url}/#/tenants/no-such-tenant")
    box = page.locator(".error-box").first
    expect(box).to_be_visible()
    expect(box).to_have_attribute("data-code", "TENANT_NOT_FOUND")
    expect(box).to_contain_text("no-such-tenant")

    # English labels on request; Korean is the default.
    page.click("#lang-en")
    expect(page.locator("nav a[data-section=tenants]")).to_have_text("Tenants")
    page.goto(f"{system.base_url}/#/tenants")
    expect(page.locator("#new-tenant")).to_have_text("New tenant")

    # Prod: a red bar, the key asked for once and kept for the session, X-Demo-Mode: false.
    page.click("#mode-prod")
    expect(page.locator("#modebar")).to_have_class(re.compile(r"\bprod\b"))
    expect(page.locator("#key-dialog")).to_be_visible()
    page.fill("#key-input", system.admin_key)
    with page.expect_request(re.compile(r"/api/v1/tenants/\?")) as request_info:
        page.click("#key-save")
    sent = request_info.value.headers
    assert sent["x-demo-mode"] == "false"
    assert sent["authorization"] == f"Bearer {system.admin_key}"
    expect(page.locator("#tenant-table, .empty").first).to_be_visible()
    bar_colour = page.eval_on_selector("#modebar", "el => getComputedStyle(el).backgroundColor")
    assert bar_colour == "rgb(185, 28, 28)"
    screenshot(page, "07-prod-mode")
    page.reload()
    expect(page.locator("#modebar")).to_have_class(re.compile(r"\bprod\b"))
    expect(page.locator("#key-dialog")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('ecp.apiKey')") == system.admin_key

    # A wrong key in prod is refused in words, not a blank page.
    page.evaluate("sessionStorage.setItem('ecp.apiKey', 'ecp_wrong')")
    page.goto(f"{system.base_url}/#/monitoring")
    page.reload()
    expect(page.locator(".error-box[data-code=UNAUTHORIZED]").first).to_be_visible()
    assert page.page_errors == []
