"""The `ecp` command: `ecp up` runs the whole system on this machine; the client commands
(`ecp tenants ...`, `ecp deploy ...`, see `ecp --help`) talk to a running one."""

from __future__ import annotations

import sys

from ecp_client.cli.commands import run
from ecp_client.cli.parser import build_parser


def main(argv: list[str] | None = None) -> int:
    parser, commands = build_parser()
    commands.add("up", "start NATS, PostgreSQL (unless URLs are set) and every service")
    args = parser.parse_args(argv)
    if args.command == "up":
        # Only `ecp up` needs the server side; the client commands never load it.
        from shared.launcher import run_up
        from shared.settings import get_settings

        return run_up(get_settings())
    return run(args)


__all__ = ["build_parser", "main", "run"]

if __name__ == "__main__":
    sys.exit(main())
