"""Run every benchmark in turn (`make bench`); each prints its own figures and baseline."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = (
    "bench.sandbox_speed",
    "bench.turn_throughput",
    "bench.tool_overhead",
    "bench.broadcast",
)


def main() -> int:
    failed = 0
    for module in BENCHMARKS:
        print(f"\n=== {module} ===", flush=True)
        failed += subprocess.call([sys.executable, "-m", module, *sys.argv[1:]])  # noqa: S603
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
