"""`make bench`: run every benchmark and print figures with their reference ratios."""

from __future__ import annotations

import platform
import sys

from bench import in_memory


def main() -> None:
    print(f"Python {platform.python_version()} on {platform.machine()}, {sys.platform}")
    print(f"{'backend':<10} {'workload':<42} {'ours':>12} {'reference':>12} {'ratio':>7}  unit")
    for figure in in_memory.run():
        reference = f"{figure.reference:,.1f}" if figure.reference else "-"
        print(
            f"{'in-memory':<10} {figure.workload:<42} {figure.ours:>12,.1f} {reference:>12} "
            f"{figure.ratio:>7}  {figure.unit}"
        )


if __name__ == "__main__":
    main()
