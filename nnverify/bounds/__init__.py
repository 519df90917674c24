"""Rigorous forward-error bounds from the standard rounding model, and ULP distances.

Two tiers (:func:`error_bounds`, vectorized on a :class:`~nnverify.certified.arrays.BallPass`):

- **sound**: how far may ANY correct float computation of the network in its dtype be from the
  exact value? The signed bound (local rounding errors propagated backwards with their signs,
  :mod:`.adjoint`, over order-free local bounds, :mod:`.sums`, and activations over boxes,
  :mod:`.boxes`), or today's interval rules (below, :mod:`.interval_arrays`) for the output
  layer over the signed chain's errors where those are smaller — never above today's bound;
- **probabilistic**: a bound that holds with probability ``>= confidence`` per output if the
  rounding errors are independent with mean zero (:mod:`.probabilistic`, Azuma–Hoeffding).

Today's interval bound, derived, not tuned (docs/ARCHITECTURE.md, "Numerical conventions"), layer by
layer (:func:`forward_error_bounds` is its per-number ``arb`` version, the tests' oracle):

1. **Weighted sum.** ``a_j = sum_i z_i w_ij + b_j`` computed from inputs ``ẑ_i`` that are
   themselves off by at most ``e_i``: in any summation order, with or without FMA, blocked or
   pairwise (``np.dot``, ``@``, ``einsum``, a Python loop), the standard model
   ``fl(x op y) = (x op y)(1 + d), |d| <= u`` gives
   ``|â_j - a_j| <= gamma_{n+1} * (sum_i (|z_i| + e_i)|w_ij| + |b_j|) + sum_i e_i |w_ij|``
   with ``gamma_m = m u / (1 - m u)`` (n products and n additions: at most n + 1 roundings
   on any term), plus ``n tiny`` for products that underflow.
2. **Activation.** ``|ĥ(â) - h(a)| <= |ĥ(â) - h(â)| + L e_a`` where ``L`` is the largest
   ``|h'|`` on ``[a - e_a, a + e_a]`` (mean value theorem, taken over that interval in ball
   arithmetic, so no first-order approximation) and the first term is the evaluation error
   stated in :class:`RoundingModel`:

   - sigmoid: ``max(c_rel u h, c_abs u)`` plus an underflow — ``c_rel`` covers ``1/(1+exp(-a))`` and
     ``exp(a)/(1+exp(a))``; the absolute ``c_abs u`` covers ``0.5*(1+tanh(a/2))``, whose error
     is absolute (for very negative ``a`` its *relative* error is 100%), and every underflow;
   - tanh: ``2 k u |tanh|`` plus ``k + 1`` underflows; relu, identity: exact; step: exact unless the interval
     ``[a - e_a, a + e_a]`` straddles 0 (then the bound is 1, honestly);
   - softmax ``exp(a_k - c) / sum_i exp(a_i - c)`` with ``c = max a``, or ``c = 0`` while every
     ``exp(a_i)`` is a normal float (below that, the unshifted form loses accuracy no rounding bound
     of it covers — float32 logits ``(-99, -99.5)`` come out 0.3% off — the book's reason for the
     shift, §3.5.2; such an output may be called ``failed``, as one that overflows is): each
     ``exp`` argument is off by ``e_i + u|â_i - c|`` (the shift's rounding — this is why the
     error grows with ``|a_k - max a|``) plus ``exp``'s own ``k`` ulps; the ratio of the
     perturbed softmax to the exact one is enclosed exactly, times the sum's ``gamma_{K-1}``
     and two roundings for the division (covers multiplying by the reciprocal).
3. **Range caps.** A computed sigmoid or softmax lies in [0, 1] and a computed tanh in
   [-1, 1], so no bound exceeds the distance from the exact value to the far end of that range
   (keeps bounds finite where the derivation above explodes, e.g. huge float32 logits).

Every constant and every step is computed in ball arithmetic and rounded up, so the bound
is never below the true worst case of the model. The one assumption not proved here is the
accuracy of the dtype's ``exp``/``tanh`` (``k`` ulps, :class:`RoundingModel`).
"""

from nnverify.bounds.activations import ERROR_BOUNDS, BallConstants, activation_errors
from nnverify.bounds.interval import BOUND_PREC, forward_error_bounds, layer_error_bounds
from nnverify.bounds.probabilistic import DEFAULT_CONFIDENCE, check_confidence
from nnverify.bounds.rounding import DEFAULT_ROUNDING, ModelConstants, RoundingModel
from nnverify.bounds.tiers import OutputBounds, error_bounds
from nnverify.bounds.ulps import float_up, gamma, ulp, ulp_distance, ulp_of, unit_roundoff

__all__ = [
    "BOUND_PREC",
    "BallConstants",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_ROUNDING",
    "ERROR_BOUNDS",
    "ModelConstants",
    "OutputBounds",
    "RoundingModel",
    "activation_errors",
    "check_confidence",
    "error_bounds",
    "float_up",
    "forward_error_bounds",
    "gamma",
    "layer_error_bounds",
    "ulp",
    "ulp_distance",
    "ulp_of",
    "unit_roundoff",
]
