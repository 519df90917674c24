"""Shared test setup: Hypothesis profiles chosen by NNVERIFY_PROFILE (dev by default, ci in CI).

No deadlines anywhere: SymPy's first calls are slow and a deadline would flake.
"""

from __future__ import annotations

import os

# OpenBLAS chooses its kernels by CPU, and kernels sum in different orders, so a float32 sum of
# 784 terms (book-mnist) differs in its last digits from one CPU to another (SkylakeX: A1 =
# 4.5748653, Zen and Haswell: 4.5748677). The README's and the reports' numbers come from the
# Haswell kernel (AVX2: any x86-64 of the last ten years); set before NumPy is imported.
os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    derandomize=True,  # reproducible in CI: same examples every run
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("NNVERIFY_PROFILE", "dev"))
