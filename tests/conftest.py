"""Shared test setup: Hypothesis profiles chosen by NNVERIFY_PROFILE (dev by default, ci in CI).

No deadlines anywhere: SymPy's first calls are slow and a deadline would flake.
"""

from __future__ import annotations

import os

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
