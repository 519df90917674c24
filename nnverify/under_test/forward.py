"""The forward pass under test: nnverify's own, or a user's, with user activations swapped in."""

from __future__ import annotations

import numpy as np

from nnverify.model import Activation, Network
from nnverify.numeric import activate
from nnverify.under_test.calls import UserFunction, guarded_call

__all__ = ["ForwardUnderTest"]


class ForwardUnderTest:
    """The forward pass the property suite checks.

    Args:
        forward: a user's ``forward(network_dict, x)``, or None for nnverify's own.
        sigmoid: a user's ``sigmoid(a)`` used for every sigmoid layer of nnverify's forward.
        softmax: a user's ``softmax(a)`` used for a softmax output layer of nnverify's forward.

    With a user ``forward``, the ``sigmoid``/``softmax`` functions are tested on their own only.
    """

    def __init__(
        self,
        forward: UserFunction | None = None,
        *,
        sigmoid: UserFunction | None = None,
        softmax: UserFunction | None = None,
    ) -> None:
        self.user_forward = forward
        self.sigmoid = sigmoid
        self.softmax = softmax

    @property
    def label(self) -> str:
        if self.user_forward is not None:
            return self.user_forward.spec
        swaps = [f.spec for f in (self.sigmoid, self.softmax) if f is not None]
        return "nnverify forward" + (f" with {', '.join(swaps)}" if swaps else "")

    @property
    def exposes_a(self) -> bool:
        """True when ``a^{(L)}`` is visible (nnverify's forward; the book's contract returns only y)."""
        return self.user_forward is None

    def run_sigmoid(self, a: np.ndarray) -> np.ndarray:
        """The sigmoid under test on ``a`` (user's, else nnverify's), checked like any call."""
        if self.sigmoid is not None:
            return self.sigmoid.call(a.copy(), expect_shape=a.shape)
        return guarded_call(activate, (Activation.SIGMOID, a), "nnverify sigmoid", a.shape, None)

    def run_softmax(self, a: np.ndarray) -> np.ndarray:
        """The softmax under test on ``a`` (user's, else nnverify's)."""
        if self.softmax is not None:
            return self.softmax.call(a.copy(), expect_shape=a.shape)
        return guarded_call(activate, (Activation.SOFTMAX, a), "nnverify softmax", a.shape, None)

    def run_layers(self, network: Network, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """nnverify's forward (with any user activations swapped in): every ``a`` and ``z``."""
        z = np.asarray(x, dtype=network.dtype)
        a_list, z_list = [], []
        for layer in network.layers:
            a = z @ layer.W + layer.b
            if layer.activation is Activation.SIGMOID and self.sigmoid is not None:
                z = self.run_sigmoid(a)
            elif layer.activation is Activation.SOFTMAX and self.softmax is not None:
                z = self.run_softmax(a)
            else:
                z = guarded_call(activate, (layer.activation, a), "nnverify forward", a.shape, None)
            a_list.append(a)
            z_list.append(z)
        return a_list, z_list

    def run(self, network: Network, x: np.ndarray) -> np.ndarray:
        """``y`` for one input ``(n,)`` or a batch ``(N, n)``; shape ``(k,)`` or ``(N, k)``."""
        x = np.asarray(x, dtype=network.dtype)
        expect = x.shape[:-1] + (network.n_outputs,)
        if self.user_forward is None:
            return self.run_layers(network, x)[1][-1]
        return self.user_forward.call(network.to_book_dict(), x.copy(), expect_shape=expect)
