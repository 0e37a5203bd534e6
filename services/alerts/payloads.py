"""What a notification says: an Alertmanager-style webhook payload, its signature, its e-mail."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

# Alertmanager's "not ended yet" time.
ZERO_TIME = "0001-01-01T00:00:00Z"
SIGNATURE_HEADER = "X-ECP-Signature"


@dataclass(frozen=True)
class Notice:
    """One notification of one alert episode: the first firing, a repeat, or the resolution."""

    tenant_id: str
    rule_id: str
    alert_name: str
    status: str  # firing | resolved
    sequence: int
    repeat: int  # 0 for the first notification of this status, then 1, 2, ...
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    condition: str
    value: float | None
    starts_at: datetime
    ends_at: datetime | None


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ZERO_TIME
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_labels(notice: Notice) -> dict[str, str]:
    return {**notice.labels, "alertname": notice.alert_name, "tenant_id": notice.tenant_id}


def group_key(notice: Notice) -> str:
    return f'{{}}:{{alertname="{notice.alert_name}", tenant_id="{notice.tenant_id}"}}'


def webhook_payload(notice: Notice, receiver: str) -> dict[str, Any]:
    """The body of a webhook call, shaped like Alertmanager's (version 4) plus an `ecp` part."""
    labels = alert_labels(notice)
    annotations = {"condition": notice.condition, **notice.annotations}
    if notice.value is not None:
        annotations.setdefault("value", f"{notice.value:g}")
    return {
        "version": "4",
        "groupKey": group_key(notice),
        "truncatedAlerts": 0,
        "status": notice.status,
        "receiver": receiver,
        "groupLabels": {"alertname": notice.alert_name, "tenant_id": notice.tenant_id},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [
            {
                "status": notice.status,
                "labels": labels,
                "annotations": annotations,
                "startsAt": _iso(notice.starts_at),
                "endsAt": _iso(notice.ends_at),
                "generatorURL": "",
                "fingerprint": notice.fingerprint,
            }
        ],
        "ecp": {
            "rule_id": notice.rule_id,
            "sequence": notice.sequence,
            "repeat": notice.repeat,
            "value": notice.value,
        },
    }


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signature(body: bytes, secret: str) -> str:
    """`sha256=<hex HMAC-SHA256 of the body>`, as the `X-ECP-Signature` header carries it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str) -> bool:
    return hmac.compare_digest(signature(body, secret), header)


def email_message(payload: dict[str, Any], sender: str, recipients: list[str]) -> EmailMessage:
    """One plain-text message that reads well in any mail client."""
    alert = payload["alerts"][0]
    labels, annotations = alert["labels"], alert["annotations"]
    status = payload["status"].upper()
    name, tenant = labels["alertname"], labels["tenant_id"]
    message = EmailMessage()
    message["Subject"] = f"[{status}] {name} on tenant {tenant}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    lines = [
        f"Alert {name} is {payload['status']} for tenant {tenant}.",
        "",
        f"Condition: {annotations.get('condition', '')}",
    ]
    if "value" in annotations:
        lines.append(f"Value:     {annotations['value']}")
    lines += [f"Since:     {alert['startsAt']}"]
    if payload["status"] == "resolved":
        lines.append(f"Resolved:  {alert['endsAt']}")
    extra = {k: v for k, v in annotations.items() if k not in ("condition", "value")}
    lines += ["", "Labels:"] + [f"  {k} = {v}" for k, v in sorted(labels.items())]
    if extra:
        lines += ["", "Annotations:"] + [f"  {k}: {v}" for k, v in sorted(extra.items())]
    lines += ["", f"Fingerprint: {alert['fingerprint']}", "-- ECP-AI Orchestrator alerts"]
    message.set_content("\n".join(lines) + "\n")
    return message
