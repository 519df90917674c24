"""Freed array memory kept for the next batch: glibc's mmap and trim thresholds raised, once.

The vectorized certified paths build and drop many arrays of a few MB per batch. glibc serves
allocations that large with fresh ``mmap`` calls and gives the memory back when it is freed
(or trims the heap it came from), so every batch faults the same pages in again: on book-mnist
that was about a quarter of a float32 check's time. With ``M_MMAP_THRESHOLD`` at 32 MiB (glibc's
largest on 64-bit) and ``M_TRIM_THRESHOLD`` at 512 MiB, freed arrays stay in the process and are
reused: the peak is what the arrays need, as before; the resident size just does not fall
between batches.

:func:`keep_freed_memory` does it once per process, on the first fast pass. It changes nothing
where the C library is not glibc (macOS, musl, Windows), and ``NNVERIFY_KEEP_HEAP=0`` in the
environment turns it off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["keep_freed_memory", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

#: glibc's ``mallopt`` parameters (malloc.h) and the values set.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 512 << 20

_done: list[bool] = []


def keep_freed_memory() -> bool:
    """Raise glibc's thresholds (see the module text) the first time; True when they are raised."""
    if _done:
        return _done[0]
    _done.append(_raise_thresholds())
    return _done[0]


def _raise_thresholds() -> bool:
    if os.environ.get("NNVERIFY_KEEP_HEAP", "1").strip() == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        gnu = libc.gnu_get_libc_version  # present in glibc only (musl has mallopt as a stub)
    except (OSError, AttributeError):
        return False
    del gnu
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # the mmap threshold first: setting either one turns glibc's own sliding threshold off
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
