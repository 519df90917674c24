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

A bound that cannot tell any value of the output activation's range from the exact value (a
sigmoid bound of 1: only the range cap was left) proves nothing, so it never gives ``ok``.

**Routes.** In binary mode, batches big enough (:func:`fast_route`) are enclosed by the fast
arithmetic of :func:`~nnverify.certified.fastpass.fast_forward` — float64 balls for float32
networks, double-double balls for float64 ones — and decided on whole arrays
(:func:`~nnverify.results.array_verdicts`). Every row with an output left undecided there is
decided again from ``arb`` balls (``prec`` bits, doubled as above), which stay the reference of
last resort; so does decimal mode, and small work (the matrix route: no SymPy is imported).
Results are kept as arrays (:class:`~nnverify.results.ResultTable`): a few dozen bytes per
output; the exact digits are printed from the fast balls, or from arb balls fetched for the rows
printed when the fast balls hold fewer digits than asked.

``sound_status`` is the verdict of the sound tier alone (ok/failed/undecided), ``prob_status``
that of the probabilistic tier alone (ok/suspicious/undecided).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from nnverify.bounds import DEFAULT_ROUNDING, RoundingModel
from nnverify.bounds.probabilistic import DEFAULT_CONFIDENCE, check_confidence
from nnverify.bounds.tiers import error_bounds
from nnverify.certified import Enclosure, certify, check_prec
from nnverify.certified.arrays import BallArray, BallPass, ball_pass, up
from nnverify.certified.fastpass import fast_forward
from nnverify.errors import InputsError, UsageError
from nnverify.inputs import Inputs, input_rationals
from nnverify.model import Network
from nnverify.modes import Mode
from nnverify.numeric import forward
from nnverify.progress import Progress
from nnverify.results import STATUSES, CheckReport, ResultTable
from nnverify.status import Route, Verdict
from nnverify.validate import check_float, check_int, check_network
from nnverify.verdicts import PROBABILISTIC_MODEL, OutputResult, array_verdicts, ball_verdict, exact_verdict, strict_ok

__all__ = ["OutputResult", "CheckReport", "check_outputs", "check", "fast_route", "reference_balls", "STATUSES",
           "DEFAULT_MAX_PREC", "FAST_MIN_WORK", "PROBABILISTIC_MODEL"]

#: Highest precision the automatic raise goes to.
DEFAULT_MAX_PREC = 2048
#: Rows per batch: the fast path's (one NumPy pass each) and arb's (arb_mat stays cache friendly).
_FAST_BATCH, _ARB_BATCH = 500, 250
#: The fast route runs when ``rows x (parameters + 4000)`` reaches this, per dtype: below it the
#: arb matrix route is quicker. Measured (book, book-mnist, 1 to 1000 rows): arb costs about
#: 0.1 ms per row plus 25 ns per parameter and row; the fast route's fixed cost above arb's is
#: about 0.2 ms for float64 balls and 1 ms for double-double.
FAST_MIN_WORK = {"float32": 8_000, "float64": 50_000}


def fast_route(network: Network, mode: Mode, n_rows: int) -> bool:
    """Does :func:`check_outputs` take the fast route (float64 or double-double balls) here?

    Binary mode only (decimal mode needs the literal text's rationals: arb), and only when the
    work is large enough for NumPy's batches to beat arb's per-number cost (:data:`FAST_MIN_WORK`).
    """
    return mode is Mode.BINARY and n_rows * (network.n_params + 4000) >= FAST_MIN_WORK[str(network.dtype)]


def _representation_error(binary: BallPass, decimal: BallPass) -> np.ndarray:
    """``|y_binary - y_decimal|`` rounded up: the decimal literals' representation error, on top."""
    with np.errstate(all="ignore"):
        return np.asarray(up(up(np.abs(binary.y.mid - decimal.y.mid)) + up(binary.y.rad + decimal.y.rad)))


def _sub_inputs(x_in: Any, x: np.ndarray, rows: Sequence[int]) -> Any:
    if isinstance(x_in, Inputs):
        text = None if x_in.text is None else tuple(x_in.text[r] for r in rows)
        return Inputs(x_in.values[list(rows)], text, x_in.source)
    return x[list(rows)]


def _arb_rows(network: Network, x_in: Any, x: np.ndarray, y: np.ndarray, rows: list[int], mode: Mode,
              prec: int, tolerance_ulp: Fraction, model: RoundingModel, confidence: float) -> list[OutputResult]:
    """The verdicts of ``rows`` from arb balls at ``prec`` bits (the matrix route: no SymPy)."""
    cert = certify(network, _sub_inputs(x_in, x, rows), mode=mode, prec=prec, route=Route.MATRIX)
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
    dt, act = network.dtype, network.layers[-1].activation
    for i, r in enumerate(rows):
        for k, (enc, ball) in enumerate(zip(cert.y[i], cert.balls_z[-1][i])):
            value, b, pb = float(y[i, k]), float(sound[i, k]), float(prob[i, k])
            res = ball_verdict(r, k, enc, ball, cert.prec, value, b, pb, tolerance_ulp, dt)
            res = res if res is not None else exact_verdict(r, k, enc, value, b, pb, tolerance_ulp, dt)
            out.append(strict_ok(res, act))
    return out


def reference_balls(network: Network, x: np.ndarray) -> BallPass:
    """Certified ball arrays of every unit at the float inputs ``x`` ``(N, n)``: the fast route's
    when the work is large enough (:func:`fast_route`), with every row it could not enclose
    finitely done again with arb (matrix route), else arb's.

    Args:
        network: the network.
        x: ``(N, n)`` the inputs as the computation sees them.
    """
    x = np.asarray(x)
    if not fast_route(network, Mode.BINARY, x.shape[0]):
        return ball_pass(certify(network, x, route=Route.MATRIX))
    with np.errstate(all="ignore"):
        bp = fast_forward(network, x).balls
    layers = list(bp.a) + list(bp.z)
    bad = np.flatnonzero(np.any([~np.isfinite(b.rad).all(axis=1) for b in layers], axis=0))
    if bad.size == 0:
        return bp
    redo = ball_pass(certify(network, x[bad], route=Route.MATRIX))

    def splice(fast: BallArray, arb_balls: BallArray) -> BallArray:
        mid, rad = fast.mid.copy(), fast.rad.copy()
        mid[bad], rad[bad] = arb_balls.mid, arb_balls.rad
        return BallArray(mid, rad)

    return BallPass(bp.x, tuple(splice(f, a) for f, a in zip(bp.a, redo.a)),
                    tuple(splice(f, a) for f, a in zip(bp.z, redo.z)))


def _refiner(network: Network, x_in: Any, x: np.ndarray, mode: Mode, prec: int
             ) -> Callable[[list[int]], list[list[Enclosure]]]:
    """``refine(rows)``: each row's arb enclosures of the outputs (for printing their digits)."""

    def refine(rows: list[int]) -> list[list[Enclosure]]:
        out: list[list[Enclosure]] = []
        for start in range(0, len(rows), _ARB_BATCH):
            part = rows[start:start + _ARB_BATCH]
            out += certify(network, _sub_inputs(x_in, x, part), mode=mode, prec=prec, route=Route.MATRIX).y
        return out

    return refine


def _decide(network: Network, x_in: Any, x_arr: np.ndarray, outputs: Callable[[int, int], np.ndarray], mode: Mode,
            prec: int, max_prec: int, tolerance_ulp: float, digits: int, model: RoundingModel, confidence: float,
            progress: bool) -> CheckReport:
    """Every output's verdict, batch by batch (module text): fast arrays first, arb where undecided."""
    N, K = x_arr.shape[0], network.n_outputs
    fast = fast_route(network, mode, N)
    batch = _FAST_BATCH if fast else _ARB_BATCH
    tol = Fraction(float(tolerance_ulp))
    y_all: np.ndarray | None = None
    table: ResultTable | None = None
    used, fast_rows = prec, 0
    with Progress("checking", total=N, force=False) as bar:
        if not progress:
            bar.enabled = False
        for start in range(0, N, batch):
            stop = min(start + batch, N)
            y = np.asarray(outputs(start, stop))
            if y_all is None:
                y_all = np.empty((N, K), dtype=y.dtype)
                table = ResultTable(np.zeros((N, K)), _refiner(network, x_in, x_arr, mode, prec), network.dtype)
            assert table is not None
            y_all[start:stop] = y
            table.values[start:stop] = y
            pending = list(range(start, stop))
            if fast:
                with np.errstate(all="ignore"):
                    fp = fast_forward(network, x_arr[start:stop])
                    b = error_bounds(network, fp.balls, model, confidence=confidence)
                    v = array_verdicts(fp.y, y, b.sound, b.probabilistic, float(tolerance_ulp), network.dtype,
                                       network.layers[-1].activation)
                table.set_arrays(start, v, fp.y)
                pending = [start + int(i) for i in v.undecided_rows()]
                fast_rows += (stop - start) - len(pending)
            cur = prec
            while pending:
                res = _arb_rows(network, x_in, x_arr, y_all[pending], pending, mode, cur, tol, model, confidence)
                table.set_results(res)
                undecided = sorted({o.input for o in res if o.status == Verdict.UNDECIDED})
                if not undecided or cur * 2 > max_prec:
                    break
                cur *= 2
                used = max(used, cur)
                pending = undecided
            bar.advance(stop - start)
    if y_all is None or table is None:
        raise InputsError("no inputs to check; give at least one")
    return CheckReport(network=network, dtype=network.dtype, mode=mode, x=x_arr, y=y_all, results=table,
                       digits=digits, prec=prec, tolerance_ulp=float(tolerance_ulp), max_prec_used=used,
                       confidence=confidence, fast_rows=fast_rows)


def _settings(network: Network, mode: Mode | str, prec: int, max_prec: int, tolerance_ulp: float, digits: int,
              confidence: float) -> tuple[Mode, int, int, float, int, float]:
    """The checked settings; ``prec`` raised so the balls are far narrower than the last digit shown."""
    check_network(network)
    mode = Mode.parse(mode)
    prec, max_prec = check_prec(prec), check_prec(max_prec)
    confidence = check_confidence(confidence)
    if max_prec < prec:
        raise UsageError(f"max_prec {max_prec} is below prec {prec}; give max_prec >= prec")
    tolerance_ulp = check_float("tolerance (ulp)", tolerance_ulp, low=0)
    digits = check_int("digits", digits, 1, 1000)
    prec = min(max(prec, math.ceil(digits * math.log2(10)) + 32), max_prec)
    return mode, prec, max_prec, tolerance_ulp, digits, confidence


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
        prec: starting precision in bits of the arb balls; doubled for rows whose verdict is undecided.
        tolerance_ulp: an explicit extra tolerance in ulps added on top of every derived bound.
        digits: significant digits of the exact values in the report's JSON (arb's starting
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
    mode, prec, max_prec, tolerance_ulp, digits, confidence = _settings(
        network, mode, prec, max_prec, tolerance_ulp, digits, confidence)
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
    return _decide(network, x, x_arr, lambda a, b: y_arr[a:b], mode, prec, max_prec, tolerance_ulp, digits,
                   model, confidence, progress)


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
    """Run :func:`nnverify.numeric.forward` and check its outputs as :func:`check_outputs` does,
    one batch at a time (memory stays flat however many inputs).

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
    mode, prec, max_prec, tolerance_ulp, digits, confidence = _settings(
        network, mode, prec, max_prec, tolerance_ulp, digits, confidence)
    x_arr, _ = input_rationals(network, inputs, Mode.BINARY)
    return _decide(network, inputs, x_arr, lambda a, b: forward(network, x_arr[a:b]).y, mode, prec, max_prec,
                   tolerance_ulp, digits, DEFAULT_ROUNDING, confidence, progress)
