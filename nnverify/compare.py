"""Compare float outputs with the certified exact values under the derived bounds: the verdicts.

For each output the float value ``v`` is compared with the enclosure ``[lo, hi]`` of the exact
value, the **sound** bound ``B`` (holds for every correct float computation in the dtype: any
summation order, FMA or not, under the stated exp/tanh accuracy) and the **probabilistic**
bound ``B_p <= B`` (holds with probability ``>= confidence`` per output under the model
"rounding errors independent, mean zero", :mod:`nnverify.bounds.probabilistic`), each plus an
optional explicit user tolerance ``T`` ulps:

- ``"ok"`` when every point of the enclosure is within ``B_p + T`` of ``v`` (so within ``B + T``);
- ``"suspicious"`` when every point is within ``B + T`` but none within ``B_p + T``: nothing is
  proved wrong, but a correct computation lands there with probability ``< 1 - confidence``;
- ``"failed"`` when no point is within ``B + T`` (or ``v`` is NaN/infinite): proved wrong;
- ``"undecided"`` otherwise — the ball is too wide to tell. The precision is then doubled
  (up to ``max_prec``) for those inputs; what stays undecided is reported as such, never "ok".

``sound_status`` is the verdict of the sound tier alone (ok/failed/undecided), ``prob_status``
that of the probabilistic tier alone (ok/suspicious/undecided).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.bounds import DEFAULT_ROUNDING, RoundingModel
from nnverify.bounds.probabilistic import DEFAULT_CONFIDENCE, check_confidence
from nnverify.bounds.tiers import error_bounds
from nnverify.certified import certify, check_prec
from nnverify.certified.arrays import BallPass, ball_pass, up
from nnverify.display import report_html, report_latex
from nnverify.errors import InputsError, UsageError
from nnverify.inputs import Inputs, input_rationals
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.numeric import forward
from nnverify.progress import Progress
from nnverify.status import Verdict, json_float
from nnverify.validate import check_float, check_int, check_network
from nnverify.verdicts import PROBABILISTIC_MODEL, OutputResult, ball_verdict, exact_verdict

__all__ = ["OutputResult", "CheckReport", "check_outputs", "check", "STATUSES", "DEFAULT_MAX_PREC",
           "PROBABILISTIC_MODEL"]

#: The four verdicts, in the order they are counted.
STATUSES = (Verdict.OK.value, Verdict.SUSPICIOUS.value, Verdict.FAILED.value, Verdict.UNDECIDED.value)
#: Highest precision the automatic raise goes to.
DEFAULT_MAX_PREC = 2048
#: Rows certified per batch (progress granularity; arb_mat products stay cache friendly).
_BATCH = 250


def _median_ratio(bounds: list[float], errors: list[float]) -> float:
    """median(bounds) / median(errors), inf when the median error is 0."""
    e = statistics.median(errors)
    b = statistics.median(bounds)
    if not (math.isfinite(e) and math.isfinite(b)):
        return math.inf
    return b / e if e > 0 else math.inf


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
        confidence: the probability the probabilistic bound holds, per output.
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
    confidence: float = DEFAULT_CONFIDENCE

    def _repr_html_(self) -> str:  # Jupyter shows it: nnverify.display
        return report_html(self)

    def _repr_latex_(self) -> str:
        return report_latex(self)

    @property
    def ok(self) -> bool:
        """Every output ok in both tiers."""
        return all(r.ok for r in self.results)

    @property
    def sound_ok(self) -> bool:
        """Every output within its sound bound (``suspicious`` allowed): nothing proved wrong."""
        return all(r.sound_ok for r in self.results)

    @property
    def max_ulp(self) -> float:
        return max(r.ulp for r in self.results)

    @property
    def worst(self) -> OutputResult:
        """The result farthest from its exact value in ulps (ties: the first)."""
        return max(self.results, key=lambda r: r.ulp)

    @property
    def tightest(self) -> OutputResult:
        """The result closest to (or farthest beyond) its sound bound: largest ulp / bound_ulp."""
        return max(self.results, key=lambda r: r.ulp / r.bound_ulp if r.bound_ulp > 0 else math.inf)

    def counts(self) -> dict[str, int]:
        """How many outputs got each verdict (``ok``, ``suspicious``, ``failed``, ``undecided``)."""
        out = {s: 0 for s in STATUSES}
        for r in self.results:
            out[str(r.status)] += 1
        return out

    def median_ratios(self) -> dict[str, float]:
        """median bound / median error, for the sound and the probabilistic bound."""
        errors = [r.ulp for r in self.results]
        return {"sound": _median_ratio([r.bound_ulp for r in self.results], errors),
                "probabilistic": _median_ratio([math.inf if r.prob_bound_ulp is None else r.prob_bound_ulp
                                                for r in self.results], errors)}

    def to_json(self, *, results: bool = True) -> dict[str, Any]:
        """``{"ok", "results": [...], "max_ulp", ...}``; indices in it are 1-based."""
        worst, tight = self.worst, self.tightest
        doc: dict[str, Any] = {
            "ok": self.ok,
            "sound_ok": self.sound_ok,
            "network": self.network.describe(),
            "dtype": str(self.dtype),
            "mode": self.mode.value,
            "n_inputs": int(self.x.shape[0]),
            "n_outputs": int(self.y.shape[1]),
            "prec": self.prec,
            "max_prec_used": self.max_prec_used,
            "tolerance_ulp": self.tolerance_ulp,
            "confidence": self.confidence,
            "probabilistic_model": PROBABILISTIC_MODEL,
            "counts": self.counts(),
            "median_bound_over_error": {k: json_float(v) for k, v in self.median_ratios().items()},
            "max_ulp": json_float(self.max_ulp),
            "max_bound_ulp": json_float(max(r.bound_ulp for r in self.results)),
            "worst": worst.to_json(self.digits),
            "tightest": tight.to_json(self.digits),
        }
        if results:
            doc["results"] = [r.to_json(self.digits) for r in self.results]
        return doc


def _representation_error(binary: BallPass, decimal: BallPass) -> np.ndarray:
    """``|y_binary - y_decimal|`` rounded up: the decimal literals' representation error, on top."""
    with np.errstate(all="ignore"):
        return np.asarray(up(up(np.abs(binary.y.mid - decimal.y.mid)) + up(binary.y.rad + decimal.y.rad)))


def _check_rows(network: Network, x_in: Any, x: np.ndarray, y: np.ndarray, rows: list[int], mode: Mode,
                prec: int, tolerance_ulp: Fraction, model: RoundingModel,
                confidence: float) -> list[OutputResult]:
    sub: Any
    if isinstance(x_in, Inputs):
        text = None if x_in.text is None else tuple(x_in.text[r] for r in rows)
        sub = Inputs(x_in.values[rows], text, x_in.source)
    else:
        sub = x[rows]
    cert = certify(network, sub, mode=mode, prec=prec)
    if cert.mode is Mode.BINARY:
        bp = ball_pass(cert)
        extra = None
    else:  # the computation sees the stored floats: bound the binary pass, add the representation error
        bp = ball_pass(certify(network, cert.x, mode=Mode.BINARY, prec=prec, route=cert.route))
        extra = _representation_error(bp, ball_pass(cert))
    bounds = error_bounds(network, bp, model, confidence=confidence)
    sound, prob = bounds.sound, bounds.probabilistic
    if extra is not None:
        with np.errstate(all="ignore"):
            sound, prob = up(sound + extra), up(prob + extra)
    out = []
    dt = network.dtype
    for i, r in enumerate(rows):
        for k, (enc, ball) in enumerate(zip(cert.y[i], cert.balls_z[-1][i])):
            value, b, pb = float(y[r, k]), float(sound[i, k]), float(prob[i, k])
            res = ball_verdict(r, k, enc, ball, cert.prec, value, b, pb, tolerance_ulp, dt)
            out.append(res if res is not None else exact_verdict(r, k, enc, value, b, pb, tolerance_ulp, dt))
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
    confidence: float = DEFAULT_CONFIDENCE,
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
        confidence: the probability the probabilistic bound holds per output, in [0.5, 1).
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
    confidence = check_confidence(confidence)
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
                res = _check_rows(network, x, x_arr, y_arr, pending, mode, cur, tol, model, confidence)
                K = network.n_outputs
                for i, r in enumerate(pending):  # _check_rows returns row-major, K per row
                    results[r] = res[i * K:(i + 1) * K]
                undecided = sorted({o.input for o in res if o.status == Verdict.UNDECIDED})
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
        confidence=confidence,
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
    confidence: float = DEFAULT_CONFIDENCE,
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
        confidence: the probability the probabilistic bound holds per output, in [0.5, 1).
    """
    if dtype is not None:
        network = network.astype(dtype)
    x_arr, _ = input_rationals(network, inputs, Mode.BINARY)
    y = forward(network, x_arr).y
    return check_outputs(network, inputs, y, mode=mode, prec=prec, tolerance_ulp=tolerance_ulp,
                         digits=digits, progress=progress, max_prec=max_prec, confidence=confidence)
