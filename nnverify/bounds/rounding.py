"""The rounding model behind every bound: the one stated assumption and the constants derived from it.

Standard model: every float operation is exact then rounded to nearest,
``fl(a op b) = (a op b)(1 + d)``, ``|d| <= u``. Not proved here, only assumed and stated: the
dtype's ``exp`` and ``tanh`` are accurate to ``k`` ulps (:class:`RoundingModel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from nnverify.bounds.ulps import tiny, unit_roundoff
from nnverify.errors import UsageError
from nnverify.validate import check_dtype

__all__ = ["RoundingModel", "ModelConstants", "DEFAULT_ROUNDING"]


@dataclass(frozen=True)
class ModelConstants:
    """The constants of the rounding model for one dtype, as exact rationals.

    Args:
        u: unit roundoff, ``2**-p``.
        k: the accuracy assumed of ``exp`` and ``tanh``, in ulps of the result.
        c_rel: a sigmoid computed as ``1/(1+exp(-a))`` or ``exp(a)/(1+exp(a))`` errs by at most
            ``c_rel u h`` (relative).
        c_abs: one computed as ``0.5*(1+tanh(a/2))`` errs by at most ``c_abs u`` (absolute, as its
            relative error is 100% for very negative ``a``); the bound uses the larger of the
            two, plus one underflow ``tiny``.
        tiny: the smallest subnormal, the absolute error an underflow may add per operation.
    """

    u: Fraction
    k: Fraction
    c_rel: Fraction
    c_abs: Fraction
    tiny: Fraction


@dataclass(frozen=True)
class RoundingModel:
    """The assumptions behind :func:`~nnverify.bounds.forward_error_bounds`, stated once.

    Args:
        func_ulps: accuracy of the dtype's ``exp`` and ``tanh``, in ulps of the result, keyed
            by dtype name. Measured on this machine against mpmath at 200 bits (NumPy 2.4,
            AVX-512): float64 exp 0.67, tanh 1.09; float32 exp 2.19, tanh 1.32 (NumPy's
            AVX-512 float32 exp is documented at 2.52 ulp). Defaults: 2 and 4 ulps.
    """

    func_ulps: tuple[tuple[str, float], ...] = (("float64", 2.0), ("float32", 4.0))

    def k(self, dtype: Any) -> Fraction:
        name = str(check_dtype(dtype))
        for key, value in self.func_ulps:
            if key == name:
                return Fraction(value)
        raise UsageError(f"the rounding model states no exp accuracy for {name}")

    def constants(self, dtype: Any) -> ModelConstants:
        """The derived constants (exact rationals) for ``dtype``: u, k, sigmoid's c_rel, c_abs."""
        u, k = unit_roundoff(dtype), self.k(dtype)
        e = 2 * k * u  # k ulps of a normal result v is at most 2 k u |v| (a subnormal's: k tiny)
        # Denominator 1 + exp(.) in either form: relative error <= e + u + e u.
        den = e + u + e * u
        # naive 1/(1+exp(-a)): (1+u)/(1-den) - 1; exp(a)/(1+exp(a)): (1+e)(1+u)/(1-den) - 1 (larger).
        c_rel = ((1 + e) * (1 + u) / (1 - den) - 1) / u
        # 0.5*(1 + tanh(a/2)): tanh off by 2 k u (|tanh| <= 1), the add by u|1+T'| <= 2u(1+e);
        # halving is exact. Total (k u + u (1 + e)), absolute.
        c_abs = k + 1 + e
        return ModelConstants(u=u, k=k, c_rel=c_rel, c_abs=c_abs, tiny=tiny(dtype))


DEFAULT_ROUNDING = RoundingModel()
