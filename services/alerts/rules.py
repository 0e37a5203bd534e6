"""Alert rules as clients write them: the body, its checks, the compiled rule, default rules."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.alerts.condition_parser import ConditionError, parse_condition
from services.alerts.conditions import Condition
from services.alerts.durations import DurationError, parse_duration

MASK = "***"
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]{0,62}$"
# Labels the service sets itself; a rule may not override them.
RESERVED_LABELS = frozenset({"alertname", "tenant_id", "severity"})


class RuleProblem(Exception):
    """A rule the service refuses: HTTP status, stable code, detail and extra problem fields."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra

    def to_reply(self) -> dict[str, Any]:
        return {
            "ok": False,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            **self.extra,
        }


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookAction(_Strict):
    type: Literal["webhook"]
    url: str = Field(min_length=1, max_length=2048)
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    secret: str | None = Field(default=None, max_length=256)

    @field_validator("method", mode="before")
    @classmethod
    def upper_method(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class EmailAction(_Strict):
    type: Literal["email"]
    recipients: list[Annotated[str, Field(max_length=254)]] = Field(min_length=1, max_length=20)

    @field_validator("recipients")
    @classmethod
    def addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            local, at, domain = address.partition("@")
            if not (local and at and domain) or any(c in address for c in " <>,;\r\n"):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value


Action = Annotated[WebhookAction | EmailAction, Field(discriminator="type")]


class RuleBody(_Strict):
    """`POST /tenants/{id}/alerts`: the seed's fields and the optional ones."""

    alert_name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_:.-]{0,127}$")
    condition: str = Field(min_length=1, max_length=2000)
    duration: str = "0s"
    keep_firing_for: str = "0s"
    repeat_interval: str | None = None
    severity: str = Field(default="warning", pattern=r"^[a-z]{1,20}$")
    labels: dict[str, Annotated[str, Field(max_length=256)]] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    actions: list[Action] = Field(default_factory=list, max_length=10)
    enabled: bool = True

    @field_validator("labels")
    @classmethod
    def label_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.fullmatch(LABEL_NAME, name) or name in RESERVED_LABELS:
                raise ValueError(f"label name {name!r} is invalid or reserved")
        return value


def validation_problem(error: ValidationError) -> RuleProblem:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
    return RuleProblem(422, "VALIDATION_FAILED", f"{where}: {first['msg']}", errors=errors)


def read_body(data: Any) -> RuleBody:
    try:
        return RuleBody.model_validate(data)
    except ValidationError as error:
        raise validation_problem(error) from None


def seconds_of(text: str, field_name: str) -> float:
    try:
        return parse_duration(text)
    except DurationError as error:
        raise RuleProblem(422, "INVALID_DURATION", str(error), field=field_name) from None


def condition_of(text: str) -> Condition:
    try:
        return parse_condition(text)
    except ConditionError as error:
        raise RuleProblem(
            422,
            "INVALID_CONDITION",
            f"condition: {error}",
            column=error.column,
            condition=text,
        ) from None


def fingerprint(tenant_id: str, rule_name: str, labels: Mapping[str, str]) -> str:
    """A stable 16-hex-digit id of one alert, like Alertmanager's: the same for the same
    labels in any order. `alertname` and `tenant_id` always come from the arguments."""
    identity = {**labels, "alertname": rule_name, "tenant_id": tenant_id}
    # JSON of the sorted pairs: no choice of separator can make two label sets collide.
    encoded = json.dumps(sorted(identity.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Rule:
    """A stored rule compiled for evaluation."""

    rule_id: str
    tenant_id: str
    alert_name: str
    condition_text: str
    condition: Condition
    duration_s: float
    keep_firing_for_s: float
    repeat_interval_s: float | None
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    actions: list[dict[str, Any]]
    is_default: bool = False
    enabled: bool = True
    alert_labels: dict[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.tenant_id, self.alert_name, self.alert_labels)


def compile_rule(rule_id: str, tenant_id: str, body: RuleBody, is_default: bool = False) -> Rule:
    """Check everything but webhook URLs (those need DNS) and build the rule."""
    condition = condition_of(body.condition)
    repeat = None
    if body.repeat_interval is not None:
        repeat = seconds_of(body.repeat_interval, "repeat_interval")
        if repeat <= 0:
            raise RuleProblem(
                422,
                "INVALID_DURATION",
                "repeat_interval must be longer than zero",
                field="repeat_interval",
            )
    return Rule(
        rule_id=rule_id,
        tenant_id=tenant_id,
        alert_name=body.alert_name,
        condition_text=body.condition,
        condition=condition,
        duration_s=seconds_of(body.duration, "duration"),
        keep_firing_for_s=seconds_of(body.keep_firing_for, "keep_firing_for"),
        repeat_interval_s=repeat,
        severity=body.severity,
        labels=dict(body.labels),
        annotations=dict(body.annotations),
        actions=[a.model_dump() for a in body.actions],
        is_default=is_default,
        enabled=body.enabled,
        alert_labels={**body.labels, "severity": body.severity},
    )


def masked_actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Actions as an answer or a log may show them: a secret is only ever `***`."""
    return [{**a, "secret": MASK} if a.get("secret") else dict(a) for a in actions]


def keep_masked_secrets(new: list[Any], old: list[dict[str, Any]]) -> list[Any]:
    """A client that sends back what it read (`"secret": "***"`) keeps the stored secret of the
    webhook with the same URL."""
    secrets = {a.get("url"): a.get("secret") for a in old if a.get("type") == "webhook"}
    kept = []
    for action in new:
        if isinstance(action, dict) and action.get("secret") == MASK:
            action = {**action, "secret": secrets.get(action.get("url"))}
        kept.append(action)
    return kept


# (alert name, metric, thresholds field, unit) of the rules every sized tenant gets.
DEFAULT_RULES = (
    ("default_high_cpu_usage", "cpu_usage", "cpu_percent", "%"),
    ("default_high_memory_usage", "memory_usage", "memory_percent", "%"),
    ("default_high_gpu_usage", "gpu_usage", "gpu_percent", "%"),
    ("default_high_disk_usage", "disk_usage", "disk_percent", "%"),
    ("default_slow_responses", "response_time", "response_time_ms", "ms"),
)
DEFAULT_DURATION = "5m"


def default_rule_bodies(thresholds: dict[str, float]) -> list[RuleBody]:
    """The rules a tenant gets from its preset's alert thresholds."""
    bodies = []
    for name, metric, key, unit in DEFAULT_RULES:
        if key not in thresholds:
            continue
        limit = float(thresholds[key])
        shown = int(limit) if limit.is_integer() else limit
        bodies.append(
            RuleBody(
                alert_name=name,
                condition=f"{metric} > {shown}",
                duration=DEFAULT_DURATION,
                severity="warning",
                annotations={"summary": f"{metric} above {shown}{unit} for {DEFAULT_DURATION}"},
            )
        )
    return bodies
