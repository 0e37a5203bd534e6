"""Every NATS subject and JetStream stream name, and nowhere else.

ecp.<mode>.cmd.<tenant_id>.<aggregate>.<verb>     commands  (stream ECP_<MODE>_CMD)
ecp.<mode>.evt.<tenant_id>.<aggregate>.<event>    events    (stream ECP_<MODE>_EVT)
ecp.<mode>.metrics.<tenant_id>                    samples   (stream ECP_<MODE>_METRICS)
ecp.<mode>.dlq.<service>                          dead letters (stream ECP_<MODE>_DLQ)
ecp.<mode>.rpc.<service>.<query>                  queries   (core request/reply)
ecp.rpc.<service>.health                          readiness (core request/reply)
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.modes import Mode

ANY = "*"


def command(mode: Mode, tenant_id: str, aggregate: str, verb: str) -> str:
    return f"ecp.{mode}.cmd.{tenant_id}.{aggregate}.{verb}"


def event(mode: Mode, tenant_id: str, aggregate: str, name: str) -> str:
    return f"ecp.{mode}.evt.{tenant_id}.{aggregate}.{name}"


def metrics(mode: Mode, tenant_id: str) -> str:
    return f"ecp.{mode}.metrics.{tenant_id}"


def dead_letter(mode: Mode, service: str) -> str:
    return f"ecp.{mode}.dlq.{service}"


def rpc(mode: Mode, service: str, query: str) -> str:
    return f"ecp.{mode}.rpc.{service}.{query}"


def health(service: str) -> str:
    return f"ecp.rpc.{service}.health"


def all_events(mode: Mode) -> str:
    return f"ecp.{mode}.evt.>"


def tenant_of(subject: str) -> str:
    """The tenant token of a cmd, evt or metrics subject."""
    return subject.split(".")[3]


def event_name_of(subject: str) -> str:
    """`tenant.accepted` for `ecp.demo.evt.acme.tenant.accepted`."""
    return ".".join(subject.split(".")[4:])


@dataclass(frozen=True)
class Stream:
    name: str
    subjects: tuple[str, ...]
    max_age_seconds: float | None = None


def streams(mode: Mode, metrics_max_age_seconds: float) -> list[Stream]:
    prefix = f"ECP_{mode.upper()}"
    return [
        Stream(f"{prefix}_CMD", (f"ecp.{mode}.cmd.>",)),
        Stream(f"{prefix}_EVT", (f"ecp.{mode}.evt.>",)),
        Stream(f"{prefix}_METRICS", (f"ecp.{mode}.metrics.>",), metrics_max_age_seconds),
        Stream(f"{prefix}_DLQ", (f"ecp.{mode}.dlq.>",)),
    ]


def stream_name(mode: Mode, kind: str) -> str:
    return f"ECP_{mode.upper()}_{kind.upper()}"
