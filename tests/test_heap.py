"""The heap setting of the fast path (nnverify.certified.heap): done once, on glibc only, and off on request."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nnverify.certified.heap import keep_freed_memory

_PROBE = "import nnverify.certified.heap as h; print(h.keep_freed_memory(), h.keep_freed_memory())"


def _run(env: dict[str, str]) -> str:
    import os

    return subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True,
                          env={**os.environ, **env}).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_thresholds_are_raised_once_on_glibc_and_the_environment_can_turn_it_off() -> None:
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    assert _run({"NNVERIFY_KEEP_HEAP": "1"}) == "True True"
    assert _run({"NNVERIFY_KEEP_HEAP": "0"}) == "False False"  # the check above can fail
    assert keep_freed_memory() is keep_freed_memory()
