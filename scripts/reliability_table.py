#!/usr/bin/env python3
"""Run the fuzz and fault tests and write the README's reliability table from their outcomes.

The tests record every case (class of bad input, outcome) through ``tests/reliability.py``
when ``NNVERIFY_RELIABILITY_OUT`` names a file; this script runs them under the CI profile
(deterministic), reads that file and rewrites the README section between
``<!-- section: reliability (owner: issue 6) -->`` and ``<!-- end: reliability -->``.

Usage::

    python scripts/reliability_table.py            # run the tests, print and write the table
    python scripts/reliability_table.py --no-write # run and print only
    python scripts/reliability_table.py --from-json outcomes.json   # no test run

Exit status: 0 when the tests passed and no case crashed, exited 3, hung, lost a file, ran code
or passed falsely.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEST_FILES = [
    "tests/test_fuzz_weights.py",
    "tests/test_fuzz_cli.py",
    "tests/test_pickle_hardening.py",
    "tests/test_atomic_writes.py",
    "tests/test_limits.py",
    "tests/test_faults.py",
    "tests/test_isolation.py",
    "tests/test_overflow.py",
    "tests/test_cli_signals.py",
    "tests/corpus",
]
BEGIN = "<!-- section: reliability (owner: issue 6) -->"
END = "<!-- end: reliability -->"
COLUMNS = [
    ("ok", "exit 0 (valid)"),
    ("failed", "exit 1 (verdict)"),
    ("error", "exit 2 (clear error)"),
    ("crashed", "crashed"),
    ("exit 3", "exit 3 (internal)"),
    ("hung", "hung"),
    ("lost", "lost a file"),
    ("ran code", "ran foreign code"),
    ("false pass", "false pass"),
]
BAD = ("crashed", "exit 3", "hung", "lost", "ran code", "false pass")


def run_tests(out_json: Path) -> tuple[int, float, str]:
    """Run the reliability tests with the CI profile; returns (pytest exit code, seconds, summary line)."""
    files = [f for f in TEST_FILES if (ROOT / f).exists()]
    env = dict(os.environ, NNVERIFY_PROFILE="ci", NNVERIFY_RELIABILITY_OUT=str(out_json))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    summary = lines[-1].strip("= ") if lines else "(no output)"
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
    return proc.returncode, seconds, summary


def render(doc: dict[str, Any], summary: str, seconds: float | None) -> str:
    """The README section body: one paragraph and the table."""
    classes: dict[str, str] = doc["classes"]
    counts: dict[str, dict[str, int]] = doc["counts"]
    slowest: dict[str, float] = doc.get("slowest_s", {})
    total = {k: sum(counts.get(c, {}).get(k, 0) for c in classes) for k, _ in COLUMNS}
    n_cases = sum(total.values())
    bad = sum(total[k] for k in BAD)
    head = "| class of bad input or fault | cases | " + " | ".join(t for _, t in COLUMNS) + " | slowest |"
    rule = "|---|---:|" + "---:|" * len(COLUMNS) + "---:|"
    rows = [head, rule]
    for cls, title in classes.items():
        c = counts.get(cls, {})
        n = sum(c.values())
        if n == 0:
            rows.append(f"| {title} | not run | " + " | ".join("" for _ in COLUMNS) + " | |")
            continue
        cells = [str(c.get(k, 0)) if c.get(k, 0) else "·" for k, _ in COLUMNS]
        slow = slowest.get(cls, 0)
        rows.append(f"| {title} | {n:,} | " + " | ".join(cells) + f" | {slow:.2f} s |")
    rows.append(f"| **all** | **{n_cases:,}** | " + " | ".join(
        f"**{total[k]:,}**" if total[k] else "·" for k, _ in COLUMNS) + " | |")
    timing = f" in {seconds:.0f} s" if seconds is not None else ""
    verdict = ("nothing crashed, exited 3, hung, lost a file, ran foreign code or passed falsely"
               if bad == 0 else
               f"**{bad} case(s) crashed, exited 3, hung, lost a file, ran foreign code or passed falsely**")
    para = (
        "nnverify reads files from strangers, so its tests attack it. Every run below is a case from the "
        "fuzzing and fault tests (`tests/test_fuzz_*.py`, `tests/test_pickle_hardening.py`, "
        "`tests/test_atomic_writes.py`, `tests/test_limits.py`, `tests/test_faults.py`, "
        "`tests/test_isolation.py`, `tests/test_overflow.py`, `tests/test_cli_signals.py`, `tests/corpus/`): "
        "generated malformed weights files in every format, hostile pickles whose side effect is checked for,"
        " forged huge headers, malformed arguments to every subcommand, writes that fail or are killed "
        "halfway, user code that exits, forks, patches nnverify or blocks signals, values beyond the float "
        "range, signals and closed pipes. A case must end in exit 0 for valid input, exit 1 for a failed "
        "verification, or exit 2 with one line on stderr; anything else (another code, exit 3 — nnverify's "
        "internal error —, a traceback, more than 5 s — 15 s for `derive`, `check`, `test` and `report`, "
        "which do real work —, a changed or half-written file, a side effect of a pickle, exit 0 for a case "
        "known to be wrong) is counted against us. The last column is the slowest case of each class. "
        "Generated by `make reliability` "
        f"(`scripts/reliability_table.py`, Hypothesis profile `ci`, deterministic){timing}: "
        f"{n_cases:,} cases, {verdict}; pytest: {summary}."
    )
    notes = doc.get("bad_cases", [])
    open_cases = ""
    if notes:
        open_cases = "\nOpen cases (each is a test that shows it):\n\n" + "\n".join(
            f"- {n['outcome']}: {n['note'] or n['class']}" for n in notes) + "\n"
    return para + "\n\n" + "\n".join(rows) + "\n" + open_cases


def write_readme(body: str, readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SystemExit(f"{readme}: the markers {BEGIN} ... {END} must appear once each, in order")
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    new = before + BEGIN + "\n" + body + END + after
    tmp = readme.with_name(f".{readme.name}.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, readme)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from-json", type=Path, help="render an existing outcomes file, run nothing")
    p.add_argument("--no-write", action="store_true", help="print the table, leave README.md alone")
    p.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = p.parse_args(argv)
    if args.from_json:
        doc = json.loads(args.from_json.read_text())
        code, seconds, summary = 0, None, "not run by this script"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "outcomes.json"
            code, seconds, summary = run_tests(out)
            if not out.exists():
                sys.stderr.write("the tests recorded nothing (did pytest start?)\n")
                return 2
            doc = json.loads(out.read_text())
    body = render(doc, summary, seconds)
    print(body)
    if not args.no_write:
        write_readme(body, args.readme)
        print(f"wrote the reliability section of {args.readme}")
    bad = sum(sum(c.get(k, 0) for k in BAD) for c in doc["counts"].values())
    return 1 if code != 0 or bad else 0


if __name__ == "__main__":
    sys.exit(main())
