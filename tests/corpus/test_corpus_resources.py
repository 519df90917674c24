"""Issue 15's unbounded resources: members, names and widths that asked for minutes and gigabytes
before a clean error. Each now ends in well under the per-case limit (5 s for ``forward``),
which is what makes the ``hung`` outcome catch a regression."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import reliability


def _npz_with(tmp_path: Path, key: str, descr: str, shape: tuple[int, ...], payload: int = 1 << 20) -> str:
    """The book's 1-1 network as NPZ plus a member ``key`` whose header declares ``descr`` x ``shape``
    (the data: ``payload`` zero bytes, compressed to a few KB)."""
    base = io.BytesIO()
    np.savez(base, W1=np.ones((1, 1)), b1=np.zeros(1))
    src = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    out = tmp_path / "forged.npz"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in src.namelist():
            if name != f"{key}.npy":
                zf.writestr(name, src.read(name))
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
        zf.writestr(f"{key}.npy", header.getvalue() + bytes(payload))
    return str(out)


@pytest.mark.parametrize(("key", "descr", "shape", "message"), [
    ("activations", "<U1", (536_870_912,), "expected one name per layer, shape (1,) of strings"),
    ("activations", "<U1000000", (1,), "an activation's name has at most 64"),
    ("W1", "<U100000", (1, 1), "has dtype <U100000; expected float32 or float64"),
    ("domain", "<U1", (536_870_912,), "expected [low, high], shape (2,)"),
    ("domain", "<U1", (2,), "has dtype <U1; expected two numbers [low, high]"),
])
def test_an_npz_member_is_refused_from_its_header_before_it_is_inflated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, descr: str, shape: tuple[int, ...],
    message: str,
) -> None:
    """Was 2 min 44 s and 6.2 GB: 'activations' declared '<U1' x 536,870,912 and escaped --max-params."""
    path = _npz_with(tmp_path, key, descr, shape)
    r = reliability.run_cli(["forward", "--weights", path, "--x", "1"], capsys, "resources")
    reliability.assert_clean(r, allowed=("error",))
    assert message in r.err


def test_a_10_mb_json_name_is_cut_when_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was 42 s and 1.67 GB for 100 MB, printed in full (the scanner's string pattern kept a
    backtracking frame per character)."""
    path = tmp_path / "named.json"
    path.write_text(json.dumps({"name": "n" * 10_000_000, "W1": [[1.0]], "b1": [0.0]}))
    r = reliability.run_cli(["forward", "--weights", str(path), "--x", "1"], capsys, "resources")
    reliability.assert_clean(r, allowed=("ok",))
    first = r.out.splitlines()[0]
    assert "... (10,000,000 characters)" in first and len(first) < 400


@pytest.mark.parametrize(("fmt", "width"), [("csv", 1_000_000), ("json", 100_000)])
def test_a_very_wide_inputs_file_is_refused_from_its_first_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, width: int
) -> None:
    """Was 18-29 s for 10^6 columns (every cell parsed) before the width error. (JSON is parsed
    whole before any row is seen: its case is smaller, so the 5 s case limit measures the check.)"""
    path = tmp_path / f"wide.{fmt}"
    row = ",".join(["0.5"] * width)
    path.write_text(row + "\n" + row + "\n" if fmt == "csv" else f"[[{row}], [{row}]]")
    r = reliability.run_cli(["check", "--inputs", str(path)], capsys, "resources", limit_s=5.0)
    reliability.assert_clean(r, allowed=("error",))
    assert f"gives {width:,} values in its first input but the network takes 2" in r.err


@pytest.mark.skipif(sys.version_info < (3, 11), reason="possessive repeats came with Python 3.11")
def test_one_json_row_of_two_million_weights_loads_in_bounded_memory(tmp_path: Path) -> None:
    """Was 2 GB and 10 s for a row of 3 million (a greedy regex repeat kept a frame per number);
    the peak is measured on a fresh child process (its parent has no other child)."""
    import subprocess

    n = 2_000_000
    path = tmp_path / "row.json"
    path.write_text('{"W1": [[' + ",".join(["0.5"] * n) + ']], "b1": [' + ",".join(["0.0"] * n) + "]}")
    probe = ("import resource, subprocess, sys\n"
             "code = subprocess.run([sys.executable, '-m', 'nnverify', 'forward', '--weights', sys.argv[1],"
             " '--x', '1'], stdout=subprocess.DEVNULL).returncode\n"
             "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=120)
    code, peak_kib = (int(v) for v in out.stdout.split())
    reliability.record("resources", reliability.exit_outcome(code, 0, out.stderr),
                       note=f"one JSON row of {n:,} weights: {peak_kib // 1024} MiB")
    assert code == 0, out.stderr
    assert peak_kib < 600 * 1024  # the float64 arrays are 32 MB; the file 16 MB
