"""Run every benchmark script in this folder (bench_*.py), one after another.

Each script measures its own ratios side by side in one process and prints a table;
absolute times on shared machines are noisy, ratios are what to compare.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    scripts = sorted(here.glob("bench_*.py"))
    if not scripts:
        print("no benchmark scripts found", file=sys.stderr)
        return 1
    worst = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        worst = max(worst, subprocess.call([sys.executable, str(script)]))
    return worst


if __name__ == "__main__":
    sys.exit(main())
