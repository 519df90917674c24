"""What the property suite runs on: the network, the implementation under test, the input range."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnverify.errors import UsageError
from nnverify.model import Network
from nnverify.under_test import ForwardUnderTest

__all__ = ["SuiteConfig", "PROFILES", "PROPERTY_NAMES"]

#: Examples per property for each ``--profile``.
PROFILES = {"quick": 20, "ci": 60, "thorough": 1000}

#: The laws' names in run order (``nnverify.suite.laws.PROPERTIES`` has the laws; a test keeps the
#: two in step). Here so that the command line can name them without importing Hypothesis.
PROPERTY_NAMES = ("agreement", "sigmoid-range", "identity-output", "softmax-laws", "batch-consistency",
                  "hidden-permutation", "sigmoid-symmetry", "worst-case")


@dataclass(frozen=True, eq=False)
class SuiteConfig:
    """What the suite runs on.

    Args:
        network: the network (weights and activations) the implementation computes.
        impl: the forward pass under test (default: nnverify's own).
        random_networks: also draw random networks shaped like ``network`` (same depth and
            activations, random widths 1..``max_width`` and weights in [-2, 2]).
        min_value: smallest input value drawn.
        max_value: largest input value drawn.
        max_batch: most rows in a drawn batch.
        max_width: widest layer of a random network.
        sound_only: the agreement laws accept an output outside the probabilistic bound but within
            the sound one ("suspicious"), which otherwise breaks them.
    """

    network: Network
    impl: ForwardUnderTest = field(default_factory=ForwardUnderTest)
    random_networks: bool = False
    min_value: float = -10.0
    max_value: float = 10.0
    max_batch: int = 4
    max_width: int = 5
    sound_only: bool = False

    def __post_init__(self) -> None:
        if not (np.isfinite(self.min_value) and np.isfinite(self.max_value)) or self.min_value > self.max_value:
            raise UsageError(
                f"--low {self.min_value} --high {self.max_value}: need finite low <= high"
            )
        if self.random_networks and not self.impl.takes_network:
            raise UsageError(
                f"--random-networks: {self.impl.label} takes no network (it computes weights of its own), so it "
                "cannot be given random ones; leave out --random-networks")
        if self.max_batch < 2:
            raise UsageError(f"--max-batch {self.max_batch}: must be at least 2 (batch consistency needs 2 rows)")
