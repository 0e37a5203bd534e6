"""The `ecp` command line: global options, every client command, the exit codes."""

from __future__ import annotations

import argparse
import os

DEFAULT_URL = "http://127.0.0.1:8001"
EXIT_CODES = """exit codes:
  0  ok
  1  the API answered an error; its code (TENANT_NOT_FOUND, ...) is printed on stderr
  2  usage error (bad arguments, unreadable or invalid spec file)
  3  the server could not be reached (connection refused, timeout)
  4  a followed deployment failed (deploy/rollback --follow)

environment: ECP_URL (default http://127.0.0.1:8001), ECP_API_KEY, ECP_DEMO_MODE=true|false,
ECP_OUTPUT=json|yaml|table. Demo mode needs no key; prod needs one (`ecp up` prints the first)."""


def global_options(defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the command (`ecp --demo tenants list` or
    `ecp tenants list --demo`); only the top level carries the defaults."""
    opts = argparse.ArgumentParser(add_help=False)

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    opts.add_argument(
        "--url",
        default=default(os.environ.get("ECP_URL") or DEFAULT_URL),
        help="server URL, with or without /api/v1 (env ECP_URL)",
    )
    opts.add_argument(
        "--key", default=default(os.environ.get("ECP_API_KEY")), help="API key (env ECP_API_KEY)"
    )
    mode = opts.add_mutually_exclusive_group()
    demo_env = os.environ.get("ECP_DEMO_MODE", "false").strip().lower() == "true"
    mode.add_argument(
        "--demo",
        dest="demo",
        action="store_true",
        default=default(demo_env),
        help="demo mode (X-Demo-Mode: true)",
    )
    mode.add_argument(
        "--prod",
        dest="demo",
        action="store_false",
        default=default(demo_env),
        help="prod mode (the default)",
    )
    opts.add_argument(
        "-o",
        "--output",
        choices=("json", "yaml", "table"),
        default=default(os.environ.get("ECP_OUTPUT") or "table"),
        help="how answers are printed (default table; env ECP_OUTPUT)",
    )
    return opts


class Commands:
    """Adds subcommands that all accept the global options."""

    def __init__(self, group: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        self.group = group
        self.common = global_options(defaults=False)

    def add(self, name: str, help: str, **kwargs: object) -> argparse.ArgumentParser:
        return self.group.add_parser(name, help=help, parents=[self.common], **kwargs)  # type: ignore[arg-type]

    def nested(self, name: str, help: str) -> Commands:
        parser = self.group.add_parser(name, help=help)
        return Commands(parser.add_subparsers(dest=f"{name}_command", required=True))


def add_tenant_commands(commands: Commands) -> None:
    tenants = commands.nested("tenants", "list, create, show, change and delete tenants")
    listing = tenants.add("list", "list the mode's tenants")
    listing.add_argument("--status")
    listing.add_argument("--preset")
    listing.add_argument("--skip", type=int, default=0)
    listing.add_argument("--limit", type=int, default=100)
    create = tenants.add("create", "create a tenant from a JSON spec (the seed's body)")
    create.add_argument("-f", "--file", required=True, help="spec.json, or - for stdin")
    tenants.add("get", "show a tenant").add_argument("tenant_id")
    update = tenants.add("update", "change a tenant with a JSON of the fields to change")
    update.add_argument("tenant_id")
    update.add_argument("-f", "--file", required=True)
    tenants.add("delete", "delete a tenant").add_argument("tenant_id")
    size = commands.add("size", "size a requirement without creating anything")
    size.add_argument("-f", "--file", required=True, help="spec.json (as for tenants create)")


def add_manifest_commands(commands: Commands) -> None:
    manifest = commands.nested("manifest", "download, validate and compare manifests")
    get = manifest.add("get", "print a tenant's manifest (`ecp manifest get T > manifest.yaml`)")
    get.add_argument("tenant_id")
    get.add_argument("--format", choices=("yaml", "json"), default="yaml")
    get.add_argument("--include-monitoring", action="store_true")
    get.add_argument("--revision", type=int)
    validate = manifest.add("validate", "validate a manifest file; exit 1 when it is not valid")
    validate.add_argument("file", help="manifest.yaml, or - for stdin")
    validate.add_argument("--tenant", help="default: the tenant of the manifest's Namespace")
    manifest.add("revisions", "list a tenant's manifest revisions").add_argument("tenant_id")
    diff = manifest.add("diff", "what changed between two revisions")
    diff.add_argument("tenant_id")
    diff.add_argument("--from", dest="from_revision", type=int)
    diff.add_argument("--to", dest="to_revision", type=int)


def add_deployment_commands(commands: Commands) -> None:
    deploy = commands.add("deploy", "deploy a tenant (--follow: live progress until the end)")
    deploy.add_argument("tenant_id")
    deploy.add_argument("--revision", type=int)
    rollback = commands.add("rollback", "roll a tenant back to an earlier revision")
    rollback.add_argument("tenant_id")
    rollback.add_argument("--to", dest="to_revision", type=int)
    for parser in (deploy, rollback):
        parser.add_argument(
            "--follow", action="store_true", help="show progress; exit 4 on failure"
        )
        parser.add_argument("--timeout", type=float, default=600.0, help="for --follow (seconds)")
    commands.add("deployment", "a tenant's deployment state and history").add_argument("tenant_id")
    commands.add("cluster", "the cluster's nodes and what runs on them")


def add_metric_commands(commands: Commands) -> None:
    metrics = commands.nested("metrics", "push, query and watch a tenant's metrics")
    push = metrics.add("push", "push samples: ecp metrics push T cpu_usage=65 memory_usage=70")
    push.add_argument("tenant_id")
    push.add_argument("samples", nargs="+", metavar="NAME=VALUE")
    get = metrics.add("get", "stored metrics of a tenant")
    get.add_argument("tenant_id")
    get.add_argument("--type", dest="metric_type")
    get.add_argument("--hours", type=float, default=1.0)
    watch = metrics.add("live", "print live samples (/ws/monitoring) as JSON lines")
    watch.add_argument("tenant_id")
    watch.add_argument("--count", type=int, help="stop after this many messages")
    watch.add_argument("--idle-timeout", type=float, help="stop after this long without one")
    events = commands.add("events", "print the mode's events (/ws/events) as JSON lines")
    events.add_argument("--tenant", dest="tenant_id")
    events.add_argument("--count", type=int)
    events.add_argument("--idle-timeout", type=float)


def add_alert_commands(commands: Commands) -> None:
    alerts = commands.nested("alerts", "alert rules and their notifications")
    add = alerts.add(
        "add", "register a rule (the seed's {alert_name, condition, duration, actions})"
    )
    add.add_argument("tenant_id")
    add.add_argument("--name", required=True, help="alert_name, e.g. high_cpu_usage")
    add.add_argument("--condition", required=True, help="e.g. 'cpu_usage > 80'")
    add.add_argument("--duration", default="5m", help="how long it must hold (default 5m)")
    add.add_argument("--webhook", action="append", default=[], metavar="URL")
    add.add_argument("--email", action="append", default=[], metavar="ADDR")
    alerts.add("list", "a tenant's rules and their state").add_argument("tenant_id")
    delete = alerts.add("delete", "delete a rule (by id or name)")
    delete.add_argument("tenant_id")
    delete.add_argument("rule")
    history = alerts.add("history", "firing and resolved transitions")
    history.add_argument("tenant_id")
    history.add_argument("--rule")
    alerts.add("notifications", "notifications sent and their attempts").add_argument("tenant_id")


def add_admin_commands(commands: Commands) -> None:
    keys = commands.nested("keys", "API keys (admin)")
    create = keys.add("create", "create a key; it is printed once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=("viewer", "operator", "admin"), default="viewer")
    create.add_argument("--mode", choices=("demo", "prod"), help="limit the key to one mode")
    keys.add("list", "list keys (never the secrets)")
    keys.add("revoke", "revoke a key").add_argument("key_id")
    letters = commands.nested("dead-letters", "messages a service gave up on (admin)")
    letters.add("list", "list the mode's dead letters")
    letters.add("replay", "publish one again to its subject").add_argument("sequence", type=int)


def build_parser() -> tuple[argparse.ArgumentParser, Commands]:
    parser = argparse.ArgumentParser(
        prog="ecp",
        description="ECP-AI Orchestrator: run it (`ecp up`) and use it from the command line.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[global_options(defaults=True)],
    )
    commands = Commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    for add in (
        add_tenant_commands,
        add_manifest_commands,
        add_deployment_commands,
        add_metric_commands,
        add_alert_commands,
        add_admin_commands,
    ):
        add(commands)
    return parser, commands
