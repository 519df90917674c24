"""Compare float outputs with the certified exact values under the derived bound: the verdicts.

For each output the float value ``v`` is compared with the enclosure ``[lo, hi]`` of the exact
value and the bound ``B`` (plus an optional explicit user tolerance ``T`` ulps):

- ``"ok"`` when every point of the enclosure is within ``B + T`` of ``v``;
- ``"failed"`` when no point is (or ``v`` is NaN/infinite);
- ``"undecided"`` otherwise — the ball is too wide to tell. The precision is then doubled
  (up to ``max_prec``) for those inputs; what stays undecided is reported as such, never "ok".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb, ctx

from nnverify.bounds import DEFAULT_ROUNDING, RoundingModel, float_up, forward_error_bounds, ulp_of
from nnverify.certified import Enclosure, certify, check_prec
from nnverify.display import report_html, report_latex
from nnverify.errors import InputsError, UsageError
from nnverify.inputs import Inputs, input_rationals
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.numeric import forward
from nnverify.progress import Progress
from nnverify.status import json_float
from nnverify.validate import check_float, check_int, check_network

__all__ = ["OutputResult", "CheckReport", "check_outputs", "check", "STATUSES", "DEFAULT_MAX_PREC"]

#: The three verdicts.
STATUSES = ("ok", "failed", "undecided")
#: Highest precision the automatic raise goes to.
DEFAULT_MAX_PREC = 2048
#: Rows certified per batch (progress granularity; arb_mat products stay cache friendly).
_BATCH = 250


@dataclass(frozen=True)
class OutputResult:
    """The verdict on one output ``y_k`` of one input row.

    Args:
        input: 0-based row of the batch.
        output: 0-based output index ``k - 1``.
        exact: enclosure of the exact value.
        value: the float result under test (as float64; float32 widens exactly).
        abs_error: distance from ``value`` to the enclosure (inf for NaN/inf values).
        rel_error: ``abs_error / |exact|`` (inf when the exact value is 0 and the error is not).
        ulp: ``abs_error`` in ulps of the dtype at the exact value.
        bound_abs: the derived bound plus the user tolerance, absolute.
        bound_ulp: the same in ulps.
        status: "ok", "failed" or "undecided".
    """

    input: int
    output: int
    exact: Enclosure
    value: float
    abs_error: float
    rel_error: float
    ulp: float
    bound_abs: float
    bound_ulp: float
    status: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self, digits: int = 20) -> dict[str, Any]:
        """JSON-ready dict; ``input`` and ``output`` are 1-based as everywhere users see them."""
        return {
            "input": self.input + 1,
            "output": self.output + 1,
            "exact": self.exact.digits(digits),
            "radius": float_up(self.exact.rad),
            "value": json_float(self.value),
            "abs_error": json_float(self.abs_error),
            "rel_error": json_float(self.rel_error),
            "ulp": json_float(self.ulp),
            "bound_abs": json_float(self.bound_abs),
            "bound_ulp": json_float(self.bound_ulp),
            "status": self.status,
            "ok": self.ok,
        }


@dataclass(frozen=True, eq=False)
class CheckReport:
    """All verdicts of one check, with the inputs and outputs as compared.

    Args:
        network: the network checked.
        dtype: the dtype of the arithmetic (the network's); ULPs are of this dtype.
        mode: BINARY or DECIMAL (what "exact" means).
        x: ``(N, n)`` the inputs as used.
        y: ``(N, k)`` the observed outputs.
        results: one result per (input, output), row-major.
        digits: significant digits of the exact values in :meth:`to_json`.
        prec: the starting precision in bits (undecided rows were raised from there).
        tolerance_ulp: the explicit user tolerance added to every bound.
        max_prec_used: the highest precision any row needed.
    """

    network: Network
    dtype: np.dtype
    mode: Mode
    x: np.ndarray
    y: np.ndarray
    results: tuple[OutputResult, ...]
    digits: int = 20
    prec: int = 128
    tolerance_ulp: float = 0.0
    max_prec_used: int = 128


    def _repr_html_(self) -> str:  # Jupyter shows it: nnverify.display
        return report_html(self)

    def _repr_latex_(self) -> str:
        return report_latex(self)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def max_ulp(self) -> float:
        return max(r.ulp for r in self.results)

    @property
    def worst(self) -> OutputResult:
        """The result farthest from its exact value in ulps (ties: the first)."""
        return max(self.results, key=lambda r: r.ulp)

    @property
    def tightest(self) -> OutputResult:
        """The result closest to (or farthest beyond) its bound: largest ulp / bound_ulp."""
        return max(self.results, key=lambda r: r.ulp / r.bound_ulp if r.bound_ulp > 0 else math.inf)

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for r in self.results:
            out[r.status] += 1
        return out

    def to_json(self, *, results: bool = True) -> dict[str, Any]:
        """``{"ok", "results": [...], "max_ulp", ...}``; indices in it are 1-based."""
        worst, tight = self.worst, self.tightest
        doc: dict[str, Any] = {
            "ok": self.ok,
            "network": self.network.describe(),
            "dtype": str(self.dtype),
            "mode": self.mode.value,
            "n_inputs": int(self.x.shape[0]),
            "n_outputs": int(self.y.shape[1]),
            "prec": self.prec,
            "max_prec_used": self.max_prec_used,
            "tolerance_ulp": self.tolerance_ulp,
            "counts": self.counts(),
            "max_ulp": json_float(self.max_ulp),
            "max_bound_ulp": json_float(max(r.bound_ulp for r in self.results)),
            "worst": worst.to_json(self.digits),
            "tightest": tight.to_json(self.digits),
        }
        if results:
            doc["results"] = [r.to_json(self.digits) for r in self.results]
        return doc


def _verdict(exact: Enclosure, value: float, bound: Fraction) -> tuple[str, Fraction | None]:
    """Status and the distance from ``value`` to the enclosure (None for NaN/inf)."""
    if not math.isfinite(value):
        return "failed", None
    v = Fraction(value)
    near = max(exact.lower - v, v - exact.upper, Fraction(0))
    far = max(abs(v - exact.lower), abs(v - exact.upper))
    if far <= bound:
        return "ok", near
    if near > bound:
        return "failed", near
    return "undecided", near


def _fast_result(row: int, k: int, exact: Enclosure, y_ball: arb, prec: int, value: float,
                 bound_abs: float, tolerance_ulp: Fraction, dtype: np.dtype) -> OutputResult | None:
    """The verdict decided in ball arithmetic (10x cheaper than rationals), or None when the
    balls cannot decide it and :func:`_result` must compare exact rationals."""
    if not (math.isfinite(value) and math.isfinite(bound_abs)):
        return None
    mid = exact.mid
    unit = ulp_of(mid, dtype)  # a power of two, exactly a float (>= the smallest subnormal)
    unit_f = float(unit)
    total = bound_abs
    if tolerance_ulp:
        total = math.nextafter(bound_abs + float(tolerance_ulp) * unit_f, math.inf)  # rounded up
    with ctx.workprec(prec):
        d = arb(value) - y_ball  # encloses value - e for every e in the enclosure
        upper, lower = d.abs_upper(), d.abs_lower()
    if upper <= total:
        status = "ok"
    elif lower > total:
        status = "failed"
    else:
        return None
    near = float(lower)  # distance to the nearest point of the ball (0 inside), to ~prec bits
    mid_f = abs(float(mid))
    if mid_f != 0:
        rel = near / mid_f
    else:  # 0, or below the float range (a softmax output of 1e-400)
        rel = 0.0 if near == 0 else (math.inf if mid == 0 else float(Fraction(near) / abs(mid)))
    return OutputResult(
        input=row,
        output=k,
        exact=exact,
        value=value,
        abs_error=near,
        rel_error=rel,
        ulp=near / unit_f,
        bound_abs=total,
        bound_ulp=math.nextafter(total / unit_f, math.inf),
        status=status,
    )


def _result(row: int, k: int, exact: Enclosure, value: float, bound_abs: float,
            tolerance_ulp: Fraction, dtype: np.dtype) -> OutputResult:
    """The verdict by exact rational comparison (see the module text)."""
    mid = exact.mid
    unit = ulp_of(mid, dtype)
    if not math.isfinite(bound_abs):
        # No finite bound could be derived: the value cannot be verified, only refuted.
        total = Fraction(0)
        status, near = _verdict(exact, value, total)
        status = "failed" if status == "failed" and not math.isfinite(value) else "undecided"
    else:
        total = Fraction(bound_abs) + tolerance_ulp * unit
        status, near = _verdict(exact, value, total)
    if near is None:
        abs_err = rel_err = ulps = math.inf
    else:
        abs_err = float(near)
        ulps = float(near / unit)
        rel_err = float(near / abs(mid)) if mid != 0 else (0.0 if near == 0 else math.inf)
    return OutputResult(
        input=row,
        output=k,
        exact=exact,
        value=value,
        abs_error=abs_err,
        rel_error=rel_err,
        ulp=ulps,
        bound_abs=float_up(total) if math.isfinite(bound_abs) else math.inf,
        bound_ulp=float_up(total / unit) if math.isfinite(bound_abs) else math.inf,
        status=status,
    )


def _check_rows(network: Network, x_in: Any, x: np.ndarray, y: np.ndarray, rows: list[int], mode: Mode,
                prec: int, tolerance_ulp: Fraction, model: RoundingModel) -> list[OutputResult]:
    sub: Any
    if isinstance(x_in, Inputs):
        text = None if x_in.text is None else tuple(x_in.text[r] for r in rows)
        sub = Inputs(x_in.values[rows], text, x_in.source)
    else:
        sub = x[rows]
    cert = certify(network, sub, mode=mode, prec=prec)
    bounds = forward_error_bounds(network, cert.x, cert, model)
    out = []
    dt = network.dtype
    for i, r in enumerate(rows):
        for k, (enc, ball) in enumerate(zip(cert.y[i], cert.balls_z[-1][i])):
            value, bound = float(y[r, k]), float(bounds[i, k])
            res = _fast_result(r, k, enc, ball, cert.prec, value, bound, tolerance_ulp, dt)
            out.append(res if res is not None else _result(r, k, enc, value, bound, tolerance_ulp, dt))
    return out


def check_outputs(
    network: Network,
    x: np.ndarray | Inputs,
    y: np.ndarray,
    *,
    mode: Mode | str = Mode.BINARY,
    prec: int = 128,
    tolerance_ulp: float = 0.0,
    digits: int = 20,
    max_prec: int = DEFAULT_MAX_PREC,
    model: RoundingModel = DEFAULT_ROUNDING,
    progress: bool = True,
) -> CheckReport:
    """Compare ANY implementation's outputs ``y`` at inputs ``x`` with the certified exact values.

    Args:
        network: the network the outputs claim to compute (its dtype is the arithmetic's).
        x: the inputs ``(N, n)`` or ``(n,)`` (cast to the network's dtype, as NumPy's forward
            pass does), or an :class:`Inputs` (decimal mode then uses its literal text).
        y: the outputs under test, ``(N, k)`` or ``(k,)``; any float dtype (taken exactly).
        mode: BINARY (exact value of the stored floats) or DECIMAL (the literal text).
        prec: starting precision in bits; doubled for rows whose verdict is undecided.
        tolerance_ulp: an explicit extra tolerance in ulps added on top of every derived bound.
        digits: significant digits of the exact values in the report's JSON (the starting
            precision is raised to ``3.33 * digits + 32`` bits, within ``max_prec``, so they
            are all correct).
        max_prec: the precision the automatic raise stops at.
        model: the stated accuracy of exp/tanh behind the bound.
        progress: show a progress line on a terminal for long runs.

    Example:
        >>> from nnverify.weights import book_network, BOOK_X
        >>> from nnverify.numeric import forward
        >>> net = book_network()
        >>> check_outputs(net, BOOK_X, forward(net, BOOK_X).y).ok
        True
    """
    check_network(network)
    mode = Mode.parse(mode)
    prec, max_prec = check_prec(prec), check_prec(max_prec)
    if max_prec < prec:
        raise UsageError(f"max_prec {max_prec} is below prec {prec}; give max_prec >= prec")
    tolerance_ulp = check_float("tolerance (ulp)", tolerance_ulp, low=0)
    digits = check_int("digits", digits, 1, 1000)
    x_arr, _ = input_rationals(network, x, Mode.BINARY)  # validates; the floats NumPy sees
    y_arr = np.asarray(y)
    if y_arr.dtype.kind != "f":
        raise InputsError(f"outputs have dtype {y_arr.dtype}; expected floats")
    if y_arr.ndim == 1:
        y_arr = y_arr[None, :]
    want = (x_arr.shape[0], network.n_outputs)
    if y_arr.shape != want:
        raise InputsError(
            f"outputs have shape {np.asarray(y).shape} but {want[0]} input(s) of a network with "
            f"{want[1]} outputs need shape {want}"
        )
    tol = Fraction(float(tolerance_ulp))
    # The balls must be far narrower than the last digit shown in the report.
    prec = min(max(prec, math.ceil(digits * math.log2(10)) + 32), max_prec)
    N = x_arr.shape[0]
    results: dict[int, list[OutputResult]] = {}
    used = prec
    with Progress("checking", total=N, force=False) as bar:
        if not progress:
            bar.enabled = False
        for start in range(0, N, _BATCH):
            rows = list(range(start, min(start + _BATCH, N)))
            cur = prec
            pending = rows
            while pending:
                res = _check_rows(network, x, x_arr, y_arr, pending, mode, cur, tol, model)
                K = network.n_outputs
                for i, r in enumerate(pending):  # _check_rows returns row-major, K per row
                    results[r] = res[i * K:(i + 1) * K]
                undecided = sorted({o.input for o in res if o.status == "undecided"})
                if not undecided or cur * 2 > max_prec:
                    break
                cur *= 2
                used = max(used, cur)
                pending = undecided
            bar.advance(len(rows))
    ordered = tuple(o for r in range(N) for o in results[r])
    return CheckReport(
        network=network,
        dtype=network.dtype,
        mode=mode,
        x=x_arr,
        y=y_arr,
        results=ordered,
        digits=digits,
        prec=prec,
        tolerance_ulp=float(tolerance_ulp),
        max_prec_used=used,
    )


def check(
    network: Network,
    inputs: np.ndarray | Inputs,
    *,
    dtype: Any = None,
    mode: Mode | str = Mode.BINARY,
    prec: int = 128,
    tolerance_ulp: float = 0.0,
    digits: int = 20,
    progress: bool = True,
    max_prec: int = DEFAULT_MAX_PREC,
) -> CheckReport:
    """Run :func:`nnverify.numeric.forward` and check its outputs with :func:`check_outputs`.

    Args:
        network: the network.
        inputs: ``(n,)``, ``(N, n)`` or an :class:`Inputs` (its text is used in decimal mode).
        dtype: compute in this dtype (weights converted); default the network's.
        mode: BINARY or DECIMAL.
        prec: starting precision in bits.
        tolerance_ulp: explicit extra tolerance in ulps on top of the derived bound.
        digits: significant digits of the exact values in the report's JSON.
        progress: show a progress line on a terminal for long runs.
        max_prec: the precision the automatic raise stops at.
    """
    if dtype is not None:
        network = network.astype(dtype)
    x_arr, _ = input_rationals(network, inputs, Mode.BINARY)
    y = forward(network, x_arr).y
    return check_outputs(network, inputs, y, mode=mode, prec=prec, tolerance_ulp=tolerance_ulp,
                         digits=digits, progress=progress, max_prec=max_prec)
