"""Activations on rows of balls, one entry per :class:`~nnverify.model.Activation`.

The conventions are :mod:`nnverify.numeric`'s: ``step(0) = 0``; ``relu(a) = max(a, 0)``;
softmax works on a whole row. A ball whose sign is not decided (``step`` or ``relu`` at a ball
around 0) gives the ball of every value the function takes on it.
"""

from __future__ import annotations

from collections.abc import Callable

from flint import arb

from nnverify.model import Activation

__all__ = ["BALL_ACTIVATIONS", "activate_balls"]


def _step(v: arb) -> arb:
    if v > 0:
        return arb(1)
    if v <= 0:
        return arb(0)
    return arb(0.5, 0.5)  # the sign is not decided at this precision: step is 0 or 1


def _relu(v: arb) -> arb:
    if v >= 0:
        return v
    if v <= 0:
        return arb(0)
    return arb.max(v, arb(0))


def sigmoid_ball(v: arb) -> arb:
    """``1/(1 + e^-v)``, or ``e^v/(1 + e^v)`` where ``v`` is negative: ``e^-v`` of ``v = -1e300``
    leaves arb's range (a ball ``[+/- inf]``, then NaN), ``e^v`` is a tiny ball near 0."""
    if v < 0:
        t = v.exp()
        return t / (1 + t)
    return 1 / (1 + (-v).exp())


def _elementwise(h: Callable[[arb], arb]) -> Callable[[list[arb]], list[arb]]:
    return lambda row: [h(v) for v in row]


def _softmax(row: list[arb]) -> list[arb]:
    # Shifting by an exact constant changes nothing mathematically; it keeps exp's arguments
    # small so the balls stay tight relative to the result.
    shift = arb(max(v.mid() for v in row))
    e = [(v - shift).exp() for v in row]
    total = e[0]
    for t in e[1:]:
        total = total + t
    return [t / total for t in e]


#: ``h`` applied to one row of balls, per activation (softmax over the whole row).
BALL_ACTIVATIONS: dict[Activation, Callable[[list[arb]], list[arb]]] = {
    Activation.IDENTITY: lambda row: list(row),
    Activation.SIGMOID: _elementwise(sigmoid_ball),
    Activation.RELU: _elementwise(_relu),
    Activation.STEP: _elementwise(_step),
    Activation.TANH: _elementwise(lambda v: v.tanh()),
    Activation.SOFTMAX: _softmax,
}


def activate_balls(activation: Activation, row: list[arb]) -> list[arb]:
    """``h`` applied to one row of balls (softmax over the whole row)."""
    return BALL_ACTIVATIONS[activation](row)
