"""python -m bench [name ...]: run every benchmark module's main(), or only those named."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time

import bench
from bench._cpu import python_yardstick_s


def main(argv: list[str]) -> int:
    names = sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if not info.name.startswith("_")
    )
    chosen = [n for n in names if not argv or n in argv]
    unknown = set(argv) - set(names)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; known: {', '.join(names)}")
        return 2
    print(
        f"this machine: {os.cpu_count()} cores; 10 million Python additions in "
        f"{python_yardstick_s():.2f} s (compare figures from machines by this)",
        flush=True,
    )
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.{name}").main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
