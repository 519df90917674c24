"""The probabilistic tier: a bound that holds with probability at least ``confidence`` per output.

**Model** (Higham & Mary, "A new approach to probabilistic rounding error analysis", SIAM J.
Sci. Comput. 41(5), 2019; Ipsen & Zhou, "Probabilistic error analysis for inner products",
SIAM J. Matrix Anal. Appl. 41(4), 2020): the relative rounding errors ``delta`` of the
weighted sums' products and additions are random, independent of everything computed before
them, with mean zero, and ``|delta| <= u``. The evaluation errors of exp/tanh (and of the
activations built on them) are *not* assumed random: their sound bound is added in full.

**Bound.** The signed pass (:mod:`.adjoint`) writes ``Delta y_k = sum_s c_s delta_s + R`` with
``c_s = mid(G)[k, j] v_s`` (``v_s`` the value rounded, known before ``delta_s`` is drawn, so the
sum is a martingale with increments ``|c_s delta_s| <= |mid(G)| |v_s|_max u``) and ``R`` bounded
soundly (``rad(G)``, underflows, ``eta``). Azuma-Hoeffding:
``P(|sum_s c_s delta_s| >= lambda sqrt(sum_s c_max^2)) <= 2 exp(-lambda^2 / 2)``, so with
``lambda = sqrt(2 ln(2 / p))``, ``p = 1 - confidence``, the bound ``lambda sqrt(var) + R`` holds
with probability ``>= confidence`` for each output. It replaces the ``n u`` of a length-n sum's
worst case by about ``lambda sqrt(n) u``: errors of a correct computation partly cancel.

This is a statement about a model, not a proof: a verdict outside it is *suspicious*, never
*failed*, and nothing inside it is called proved.
"""

from __future__ import annotations

import math

import numpy as np

from nnverify.certified.arrays import up
from nnverify.errors import UsageError

__all__ = ["DEFAULT_CONFIDENCE", "check_confidence", "azuma_lambda", "probabilistic_bound"]

#: The default probability that the probabilistic bound holds, per output: ``1 - 1e-6``.
DEFAULT_CONFIDENCE = 1 - 1e-6


def check_confidence(confidence: object, *, option: str = "confidence") -> float:
    """Validate a confidence level: a float in ``[0.5, 1)``.

    Args:
        confidence: the probability that the probabilistic bound holds for one output.
        option: how the value is named in the error (``--confidence`` on the command line).
    """
    rule = (f"must be the probability that the probabilistic bound holds for one output, in "
            f"[0.5, 1) (default {DEFAULT_CONFIDENCE:g}); for a failure probability p give 1 - p, "
            f"e.g. {option} 0.999999")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise UsageError(f"{option} {confidence!r}: {rule}")
    c = float(confidence)
    if not (math.isfinite(c) and 0.5 <= c < 1.0):
        raise UsageError(f"{option} {confidence!r}: {rule}")
    return c


def azuma_lambda(confidence: float) -> float:
    """``lambda = sqrt(2 ln(2 / (1 - confidence)))``, rounded up (5.39 for the default).

    Args:
        confidence: a checked confidence level.
    """
    p = 1.0 - check_confidence(confidence)  # exact: Sterbenz
    lam = math.sqrt(2.0 * math.log(2.0 / p))
    return float(up(np.array(lam * (1 + 2**-40)))) if lam > 0 else 0.0


def probabilistic_bound(var: np.ndarray, fixed: np.ndarray, confidence: float) -> np.ndarray:
    """``lambda sqrt(var) + fixed``, rounded up: the bound holding with probability ``>= confidence``.

    Args:
        var: ``(N, K)`` the martingale's ``sum c_max^2``.
        fixed: ``(N, K)`` the sound remainder.
        confidence: a checked confidence level.
    """
    lam = azuma_lambda(confidence)
    with np.errstate(all="ignore"):
        return np.asarray(up(up(lam * up(np.sqrt(var))) + fixed))
