"""The fast certified reference: float64 balls for float32 networks, double-double for float64 ones.

:func:`fast_forward` picks the route by the network's dtype and returns a :class:`FastPass`:
every layer as float64 ball arrays (a :class:`~nnverify.certified.arrays.BallPass`, what the
vectorized bounds read), the outputs as double-double balls (tight enough for verdicts in the
network's dtype) and the products ``|z| @ |W|`` the bounds share. Entries the fast arithmetic
could not enclose usefully carry an infinite radius: the caller decides them with ``arb``
(:func:`~nnverify.certified.certify`), which stays the reference of last resort.

Sound under IEEE binary64 round to nearest without flush-to-zero, probed once per process
(:func:`~nnverify.certified.elementary.check_float_environment`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnverify.certified.arrays import BallPass
from nnverify.certified.ddouble import DD
from nnverify.certified.fast32 import f64_forward
from nnverify.certified.fast64 import dd_forward
from nnverify.certified.heap import keep_freed_memory
from nnverify.model import Network

__all__ = ["FastPass", "fast_forward", "FAST_ROUTES"]

#: The route names, by network dtype.
FAST_ROUTES = {"float32": "float64 balls", "float64": "double-double balls"}


@dataclass(frozen=True, eq=False)
class FastPass:
    """Enclosures of every unit for a batch, from the fast arithmetic.

    Args:
        balls: every layer's ``a`` and ``z`` as float64 ball arrays.
        y: the outputs as double-double balls ``hi + lo ± rad`` (``lo = 0`` on the float64 route).
        abs_products: per layer, ``fl(|z_mid| @ |W|)`` (``z_mid`` the float64 midpoints feeding it).
        route: which arithmetic computed it (a value of :data:`FAST_ROUTES`).
    """

    balls: BallPass
    y: DD
    abs_products: tuple[np.ndarray, ...]
    route: str

    def decided(self) -> np.ndarray:
        """``(N, k)``: True where the output's ball is finite (the others need ``arb``)."""
        return np.asarray(np.isfinite(self.y.rad))


def fast_forward(network: Network, x: np.ndarray) -> FastPass:
    """Enclose every unit of ``network`` at the float inputs ``x`` by the fast route for its dtype.

    Args:
        network: the network (float32: float64 balls; float64: double-double balls).
        x: ``(N, n)`` the inputs as the computation sees them (taken exactly).
    """
    keep_freed_memory()  # the next batch reuses this one's arrays (certified/heap.py)
    if network.dtype == np.float32:
        balls, products = f64_forward(network, x)
        y = balls.y
        return FastPass(balls, DD(y.mid, np.zeros_like(y.mid), y.rad), products, FAST_ROUTES["float32"])
    balls, y_dd, products = dd_forward(network, x)
    return FastPass(balls, y_dd, products, FAST_ROUTES["float64"])
