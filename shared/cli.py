"""The `ecp` command: `ecp up` runs the whole system on this machine."""

from __future__ import annotations

import argparse
import sys

from shared.launcher import run_up
from shared.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecp", description="ECP-AI Orchestrator")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start NATS, PostgreSQL (unless URLs are set) and every service")
    args = parser.parse_args(argv)
    if args.command == "up":
        return run_up(get_settings())
    return 2


if __name__ == "__main__":
    sys.exit(main())
