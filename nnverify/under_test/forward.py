"""The forward pass under test: nnverify's own, or a user's, with user activations swapped in."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nnverify.model import Activation, Network
from nnverify.numeric import activate
from nnverify.status import FaultKind
from nnverify.under_test.calls import CallFailure, ImplementationFailed, ImplementationHung, guarded_call
from nnverify.under_test.functions import Call, UserFunction

__all__ = ["ForwardUnderTest"]


class ForwardUnderTest:
    """The forward pass the property suite checks.

    Args:
        forward: a user's ``forward(network_dict, x)``, or None for nnverify's own.
        sigmoid: a user's ``sigmoid(a)`` used for every sigmoid layer of nnverify's forward.
        softmax: a user's ``softmax(a)`` used for a softmax output layer of nnverify's forward.
        single_input: the user's forward takes one input at a time: a batch is passed row by
            row (in one exchange with the worker) and the batch laws say so.
        strict_dtype: a result whose dtype is not the network's is a failure, not a warning.

    With a user ``forward``, the ``sigmoid``/``softmax`` functions are tested on their own only.
    """

    def __init__(
        self,
        forward: UserFunction | None = None,
        *,
        sigmoid: UserFunction | None = None,
        softmax: UserFunction | None = None,
        single_input: bool = False,
        strict_dtype: bool = False,
    ) -> None:
        self.user_forward = forward
        self.sigmoid = sigmoid
        self.softmax = softmax
        self.single_input = single_input
        self.strict_dtype = strict_dtype
        self._notes: dict[str, None] = {}
        for f in self.functions:
            plain = f.how in ("", f"called as {f.role}(a)") or f.how.endswith("(network, x)")
            if not plain:
                self._notes.setdefault(f"{f.spec} is {f.how}")
        if single_input and forward is not None:
            self._notes.setdefault(f"--single-input: {forward.spec} gets one input at a time; a batch is passed row "
                                   "by row")

    @property
    def label(self) -> str:
        if self.user_forward is not None:
            return self.user_forward.spec
        swaps = [f.spec for f in (self.sigmoid, self.softmax) if f is not None]
        return "nnverify forward" + (f" with {', '.join(swaps)}" if swaps else "")

    @property
    def functions(self) -> tuple[UserFunction, ...]:
        return tuple(f for f in (self.user_forward, self.sigmoid, self.softmax) if f is not None)

    @property
    def has_user_code(self) -> bool:
        return bool(self.functions)

    @property
    def takes_network(self) -> bool:
        """False when the user's forward computes fixed weights of its own (``predict(x)``)."""
        return self.user_forward is None or self.user_forward.takes_network

    def uses_user_code(self, network: Network) -> bool:
        """Does the forward pass of ``network`` run any of the user's code?"""
        if self.user_forward is not None:
            return True
        acts = network.activations
        return (self.sigmoid is not None and Activation.SIGMOID in acts) or \
            (self.softmax is not None and acts[-1] is Activation.SOFTMAX)

    @property
    def notes(self) -> tuple[str, ...]:
        """What the user should hear once: shapes taken as a batch of one, dtype warnings, ..."""
        out = dict(self._notes)
        for f in self.functions:
            out.update(f.notes)
        return tuple(out)

    @property
    def exposes_a(self) -> bool:
        """True when ``a^{(L)}`` is visible (nnverify's forward; the book's contract returns only y)."""
        return self.user_forward is None

    def run_sigmoid(self, a: np.ndarray) -> np.ndarray:
        """The sigmoid under test on ``a`` (user's, else nnverify's), checked like any call."""
        if self.sigmoid is not None:
            return self.sigmoid.call(a, expect_shape=a.shape)
        return guarded_call(activate, (Activation.SIGMOID, a), "nnverify sigmoid", a.shape, None)

    def run_softmax(self, a: np.ndarray) -> np.ndarray:
        """The softmax under test on ``a`` (user's, else nnverify's)."""
        if self.softmax is not None:
            return self.softmax.call(a, expect_shape=a.shape)
        return guarded_call(activate, (Activation.SOFTMAX, a), "nnverify softmax", a.shape, None)

    def run_layers(self, network: Network, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """nnverify's forward (with any user activations swapped in): every ``a`` and ``z``."""
        z = np.asarray(x, dtype=network.dtype)
        a_list, z_list = [], []
        for layer in network.layers:
            a = z @ layer.W + layer.b
            if layer.activation is Activation.SIGMOID and self.sigmoid is not None:
                z = self._same_dtype(self.run_sigmoid(a), network, self.sigmoid.spec)
            elif layer.activation is Activation.SOFTMAX and self.softmax is not None:
                z = self._same_dtype(self.run_softmax(a), network, self.softmax.spec)
            else:
                z = guarded_call(activate, (layer.activation, a), "nnverify forward", a.shape, None)
            a_list.append(a)
            z_list.append(z)
        return a_list, z_list

    def _same_dtype(self, y: np.ndarray, network: Network, label: str) -> np.ndarray:
        """Flag a result whose dtype is not the network's (a failure under ``strict_dtype``)."""
        if y.dtype == network.dtype:
            return y
        if self.strict_dtype:
            raise ImplementationFailed(CallFailure(
                FaultKind.WRONG_DTYPE, f"returned dtype {y.dtype}; the network is {network.dtype} (--strict-dtype)",
                label))
        self._notes.setdefault(f"warning: result dtype {y.dtype}, network {network.dtype} ({label}; the values are "
                               "checked as they are; --strict-dtype makes this a failure)")
        return y

    def run(self, network: Network, x: np.ndarray) -> np.ndarray:
        """``y`` for one input ``(n,)`` or a batch ``(N, n)``; shape ``(k,)`` or ``(N, k)``."""
        return self.run_many([(network, x)])[0]

    def run_many(self, cases: Sequence[tuple[Network, np.ndarray]]) -> list[np.ndarray]:
        """``y`` for each ``(network, x)``, in one exchange with the worker (the batch laws' calls)."""
        if self.user_forward is None:
            return [self.run_layers(net, np.asarray(x, dtype=net.dtype))[1][-1] for net, x in cases]
        calls: list[Call] = []
        spans: list[tuple[int, int, bool]] = []
        for net, x in cases:
            x = np.asarray(x, dtype=net.dtype)
            rows = [x] if x.ndim == 1 or not self.single_input else list(x)
            start = len(calls)
            calls += [(net, (r,), r.shape[:-1] + (net.n_outputs,)) for r in rows]
            spans.append((start, len(calls), x.ndim == 1 or not self.single_input))
        try:
            ys = self.user_forward.calls(calls)
        except (ImplementationFailed, ImplementationHung) as exc:
            index = exc.index or 0
            case = next(i for i, (_, end, _) in enumerate(spans) if index < end)
            start, _, whole = spans[case]
            exc.case = case  # which (network, x) failed
            exc.row = None if whole else index - start  # which row, passed alone
            raise
        out = []
        for (start, end, whole), (net, _) in zip(spans, cases):
            y = ys[start] if whole else np.stack(ys[start:end])
            out.append(self._same_dtype(y, net, self.user_forward.spec))
        return out

    def close(self) -> None:
        """Release the user's functions (their worker stays for the next run)."""
        for f in self.functions:
            f.close()
