"""What each `ecp` client command does, and the exit code it ends with."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecp_client import ECPClient
from ecp_client.cli.follow import ProgressBar, follow
from ecp_client.cli.output import emit
from ecp_client.errors import ECPConnectionError, ECPError

OK, API_ERROR, USAGE, UNREACHABLE, DEPLOYMENT_FAILED = 0, 1, 2, 3, 4
TENANT_COLUMNS = (
    "tenant_id",
    "name",
    "preset",
    "status",
    "services_count",
    "cpu_limit",
    "memory_limit",
    "gpu_limit",
    "created_at",
)


class UsageError(Exception):
    """A mistake in the command line or its input files: exit 2."""


def read_text(name: str) -> str:
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from error


def read_json(name: str) -> dict[str, Any]:
    try:
        value = json.loads(read_text(name))
    except ValueError as error:
        raise UsageError(f"{name} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise UsageError(f"{name} must hold a JSON object")
    return value


def parse_samples(pairs: list[str]) -> dict[str, float]:
    samples: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            samples[name] = float(value)
        except ValueError:
            raise UsageError(f"{pair!r} is not NAME=NUMBER (e.g. cpu_usage=65)") from None
    return samples


def tenants(client: ECPClient, args: argparse.Namespace) -> int:
    sub, out = args.tenants_command, args.output
    if sub == "list":
        answer = client.list_tenants(args.skip, args.limit, args.status, args.preset)
        emit(answer, out, rows_key="tenants", columns=TENANT_COLUMNS)
    elif sub == "create":
        emit(client.create_tenant(read_json(args.file)), out)
    elif sub == "get":
        emit(client.get_tenant(args.tenant_id), out)
    elif sub == "update":
        emit(client.update_tenant(args.tenant_id, read_json(args.file)), out)
    elif sub == "delete":
        emit(client.delete_tenant(args.tenant_id), out)
    return OK


def size(client: ECPClient, args: argparse.Namespace) -> int:
    emit(client.calculate_resources(read_json(args.file)), args.output)
    return OK


def manifest(client: ECPClient, args: argparse.Namespace) -> int:
    sub, out = args.manifest_command, args.output
    if sub == "get":
        text = client.get_manifest(
            args.tenant_id, args.format, args.include_monitoring, args.revision
        )
        # The manifest itself, whatever --output says: `> manifest.yaml` must be appliable.
        sys.stdout.write(text if isinstance(text, str) else json.dumps(text, indent=2) + "\n")
    elif sub == "validate":
        try:
            report = client.validate_manifest(read_text(args.file), args.tenant)
        except ValueError as error:
            raise UsageError(str(error)) from error
        emit(report, out if out != "table" else "yaml")
        return OK if report.get("valid") else API_ERROR
    elif sub == "revisions":
        emit(client.manifest_revisions(args.tenant_id), out, rows_key="revisions")
    elif sub == "diff":
        emit(client.manifest_diff(args.tenant_id, args.from_revision, args.to_revision), out)
    return OK


def deployments(client: ECPClient, args: argparse.Namespace) -> int:
    if args.command == "deployment":
        emit(client.get_deployment(args.tenant_id), args.output)
        return OK
    if args.command == "cluster":
        emit(client.cluster(), args.output, rows_key="nodes")
        return OK

    def start() -> dict[str, Any]:
        if args.command == "deploy":
            return client.deploy(args.tenant_id, args.revision)
        return client.rollback(args.tenant_id, args.to_revision)

    if not args.follow:
        emit(start(), args.output)
        return OK
    bar = ProgressBar()
    ok, last = follow(client, args.tenant_id, start, args.timeout, bar)
    data = last.get("data", {})
    if not ok:
        bar.finish(f"ecp: deployment {data.get('deployment_id', '')} failed: {data.get('reason')}")
        return DEPLOYMENT_FAILED
    bar.finish(f"deployment {data.get('deployment_id', '')} {data.get('state', 'succeeded')}")
    emit(client.get_deployment(args.tenant_id), args.output)
    return OK


def metrics(client: ECPClient, args: argparse.Namespace) -> int:
    if args.command == "events":
        for event in client.events(args.tenant_id, args.count, args.idle_timeout):
            print(json.dumps(event, ensure_ascii=False), flush=True)
        return OK
    sub = args.metrics_command
    if sub == "push":
        emit(client.push_metrics(args.tenant_id, parse_samples(args.samples)), args.output)
    elif sub == "get":
        answer = client.query_metrics(args.tenant_id, args.metric_type, args.hours)
        emit(answer, args.output if args.output != "table" else "yaml")
    elif sub == "live":
        for sample in client.live_metrics(args.tenant_id, None, args.count, args.idle_timeout):
            print(json.dumps(sample, ensure_ascii=False), flush=True)
    return OK


def alerts(client: ECPClient, args: argparse.Namespace) -> int:
    sub, out = args.alerts_command, args.output
    if sub == "add":
        actions: list[dict[str, Any]] = [
            {"type": "webhook", "url": url, "method": "POST"} for url in args.webhook
        ]
        if args.email:
            actions.append({"type": "email", "recipients": args.email})
        rule = {
            "alert_name": args.name,
            "condition": args.condition,
            "duration": args.duration,
            "actions": actions,
        }
        emit(client.create_alert(args.tenant_id, rule), out)
    elif sub == "list":
        emit(
            client.list_alerts(args.tenant_id),
            out,
            rows_key="rules",
            columns=("rule_id", "alert_name", "condition", "duration", "state"),
        )
    elif sub == "delete":
        emit(client.delete_alert(args.tenant_id, args.rule), out)
    elif sub == "history":
        emit(client.alert_history(args.tenant_id, args.rule), out, rows_key="history")
    elif sub == "notifications":
        emit(client.notifications(args.tenant_id), out, rows_key="notifications")
    return OK


def admin(client: ECPClient, args: argparse.Namespace) -> int:
    if args.command == "keys":
        sub = args.keys_command
        if sub == "create":
            emit(client.create_key(args.name, args.role, args.mode), args.output)
        elif sub == "list":
            emit(client.list_keys(), args.output)
        elif sub == "revoke":
            emit(client.revoke_key(args.key_id), args.output)
        return OK
    if args.dead_letters_command == "list":
        emit(
            client.list_dead_letters(),
            args.output,
            columns=("sequence", "service", "original_subject", "error"),
        )
    else:
        emit(client.replay_dead_letter(args.sequence), args.output)
    return OK


HANDLERS: dict[str, Callable[[ECPClient, argparse.Namespace], int]] = {
    "tenants": tenants,
    "size": size,
    "manifest": manifest,
    "deploy": deployments,
    "rollback": deployments,
    "deployment": deployments,
    "cluster": deployments,
    "metrics": metrics,
    "events": metrics,
    "alerts": alerts,
    "keys": admin,
    "dead-letters": admin,
}


def run(args: argparse.Namespace) -> int:
    """Run a parsed client command; print errors on stderr; return the exit code."""
    client = ECPClient(args.url, is_demo=args.demo, api_key=args.key)
    try:
        return HANDLERS[args.command](client, args)
    except UsageError as error:
        print(f"ecp: error: {error}", file=sys.stderr)
        return USAGE
    except ECPConnectionError as error:
        print(f"ecp: {error.code}: cannot reach {args.url}: {error.detail}", file=sys.stderr)
        return UNREACHABLE
    except ECPError as error:
        print(f"ecp: {error.code} ({error.status}): {error.detail}", file=sys.stderr)
        for problem in error.problem.get("errors", [])[:10]:
            print(f"  {json.dumps(problem, ensure_ascii=False)}", file=sys.stderr)
        if error.code == "UNAUTHORIZED" and not args.key:
            print("ecp: prod mode needs --key (or ECP_API_KEY); or use --demo", file=sys.stderr)
        return API_ERROR
    except KeyboardInterrupt:
        return 130
    finally:
        client.close()
