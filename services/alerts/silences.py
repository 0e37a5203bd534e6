"""Silences: matchers on an alert's name and labels, for a stretch of time."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.alerts.rules import RuleProblem, validation_problem

MAX_SILENCE = timedelta(days=365)


class Matcher(BaseModel):
    """`{name: "alertname", value: "high_cpu", op: "="}`; `alert_name` means `alertname`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=63)
    value: str = Field(max_length=1024)
    op: Literal["=", "!=", "=~", "!~"] = "="

    @field_validator("name")
    @classmethod
    def canonical_name(cls, value: str) -> str:
        return "alertname" if value == "alert_name" else value

    @model_validator(mode="after")
    def regex_compiles(self) -> Matcher:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as error:
                raise ValueError(f"matcher {self.name}: bad regular expression: {error}") from None
        return self

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        # Anchored, as in Alertmanager.
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found


class SilenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[Matcher] = Field(min_length=1, max_length=20)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    duration: str | None = None  # instead of ends_at: `2h`
    comment: str = Field(default="", max_length=1000)
    created_by: str = Field(default="", max_length=200)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def silence_window(
    body: SilenceBody, now: datetime, duration_s: float | None
) -> tuple[datetime, datetime]:
    starts = body.starts_at or now
    if body.ends_at is not None:
        ends = body.ends_at
    elif duration_s is not None:
        ends = starts + timedelta(seconds=duration_s)
    else:
        raise RuleProblem(422, "VALIDATION_FAILED", "a silence needs ends_at or duration")
    if ends <= starts:
        raise RuleProblem(422, "VALIDATION_FAILED", "a silence must end after it starts")
    if ends <= now:
        raise RuleProblem(422, "VALIDATION_FAILED", "a silence must end in the future")
    if ends - starts > MAX_SILENCE:
        raise RuleProblem(422, "VALIDATION_FAILED", "a silence may last a year at most")
    return starts, ends


def read_silence(data: Any) -> SilenceBody:
    try:
        return SilenceBody.model_validate(data)
    except ValidationError as error:
        raise validation_problem(error) from None


def silenced_by(
    labels: Mapping[str, str], silences: Iterable[tuple[str, list[dict[str, Any]]]]
) -> str | None:
    """The id of the first silence whose matchers all match the alert's labels."""
    for silence_id, matchers in silences:
        if all(Matcher.model_validate(m).matches(labels) for m in matchers):
            return silence_id
    return None
