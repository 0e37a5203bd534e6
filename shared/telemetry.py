"""Prometheus metrics every service exposes: messages, retries, dead letters, HTTP requests."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES_HANDLED = Counter(
    "ecp_messages_handled_total",
    "Bus messages handled, by service and outcome",
    ["service", "outcome"],
)
MESSAGES_RETRIED = Counter(
    "ecp_messages_retried_total", "Handler failures nacked for a retry", ["service"]
)
MESSAGES_DEAD_LETTERED = Counter(
    "ecp_messages_dead_lettered_total", "Messages moved to the dead-letter subject", ["service"]
)
HTTP_REQUESTS = Counter(
    "ecp_http_requests_total",
    "HTTP requests answered by the gateway",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "ecp_http_request_seconds", "HTTP request latency at the gateway", ["method", "route"]
)
