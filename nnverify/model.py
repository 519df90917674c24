"""The network model: frozen layers with weights in the book's orientation ``a = x @ W + b``.

``model`` imports no backend. It validates once, on construction, so every backend can rely
on a network that is well formed: 2-D ``W``, 1-D ``b``, shapes that chain, finite values,
one float dtype (float32 or float64, kept as given) and softmax only on the output layer.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnverify.display import network_html, network_latex
from nnverify.errors import NetworkError, UsageError
from nnverify.literal import LiteralText, text_shape

__all__ = ["Activation", "Layer", "Network", "FLOAT_DTYPES", "LiteralText", "check_domain", "network_cache"]

#: The dtypes a network may have. The dtype is part of the model: float32 weights stay float32.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class Activation(enum.Enum):
    """The closed set of activation functions, with the conventions at kinks fixed once.

    - ``step(a) = 1 if a > 0 else 0`` (so step(0) = 0, as in the book's ``x > 0``);
    - ``relu(a) = max(a, 0)``; its derivative at 0 is taken as 0 wherever one is needed;
    - ``softmax`` is allowed only on the output layer and works row by row.
    """

    IDENTITY = "identity"
    SIGMOID = "sigmoid"
    RELU = "relu"
    STEP = "step"
    TANH = "tanh"
    SOFTMAX = "softmax"

    @classmethod
    def parse(cls, text: Activation | str) -> Activation:
        """Return the activation named ``text`` (case-insensitive), or raise a one-line error."""
        if isinstance(text, Activation):
            return text
        if not isinstance(text, str):
            raise UsageError(f"activation {text!r} is not a name; expected one of {cls.names()}")
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise UsageError(
                f"unknown activation {text!r}; expected one of {cls.names()}"
            ) from None

    @classmethod
    def names(cls) -> str:
        return ", ".join(a.value for a in cls)


def check_domain(domain: object, where: str = "domain") -> tuple[float, float]:
    """``(low, high)`` as two finite floats with ``low < high``, or a one-line error.

    Args:
        domain: a pair of numbers.
        where: what to call it in the message (a file's key, an option).
    """
    try:
        low, high = (float(v) for v in domain)  # type: ignore[attr-defined]
        ok = not any(isinstance(v, (bool, str, bytes)) for v in domain)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        ok = False
    if not ok or not (np.isfinite(low) and np.isfinite(high)) or not low < high:
        raise NetworkError(
            f"{where} {domain!r} is not an input interval; give two finite numbers low < high, "
            "e.g. [0, 1]"
        )
    return (low, high)


def _describe(l: int) -> str:
    return f"layer {l}"


@dataclass(frozen=True, eq=False)
class Layer:
    """One affine layer followed by an activation: ``z = h(x @ W + b)``.

    Args:
        W: weights, shape (inputs, outputs), float32 or float64.
        b: biases, shape (outputs,), same dtype as ``W``.
        activation: the activation ``h`` (or ``sigma`` on the output layer).
        W_text: optional literal text of every weight as it stood in the file ("0.1", "1/3"),
            kept so the exact-decimal model can use it: nested tuples of ``str``, or a
            :class:`LiteralText` (the same, kept lazily).
        b_text: the same for the biases.

    The arrays are copied and made read-only.
    """

    W: np.ndarray
    b: np.ndarray
    activation: Activation = Activation.SIGMOID
    W_text: tuple[tuple[str, ...], ...] | LiteralText | None = None
    b_text: tuple[str, ...] | LiteralText | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "activation", Activation.parse(self.activation))
        W = np.array(self.W, copy=True)
        b = np.array(self.b, copy=True)
        W.setflags(write=False)
        b.setflags(write=False)
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)

    @property
    def n_in(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return self.W.dtype


def _check_layer(layer: Layer, l: int) -> None:
    """Validate one layer (1-based index ``l``) in isolation."""
    where = _describe(l)
    for name, arr, ndim in ((f"W{l}", layer.W, 2), (f"b{l}", layer.b, 1)):
        if arr.dtype not in FLOAT_DTYPES:
            raise NetworkError(
                f"{name} ({where}) has dtype {arr.dtype}; expected float32 or float64"
            )
        if arr.ndim != ndim:
            raise NetworkError(
                f"{name} ({where}) is {arr.ndim}-D with shape {arr.shape}; expected a "
                f"{ndim}-D array" + (" (inputs, outputs)" if ndim == 2 else " (outputs,)")
            )
        if arr.size == 0:
            raise NetworkError(f"{name} ({where}) has shape {arr.shape}; it must not be empty")
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise NetworkError(
                f"{name}{list(idx)} ({where}) is {float(arr[idx])}; every weight and bias must be "
                "finite"
            )
    if layer.W.dtype != layer.b.dtype:
        raise NetworkError(
            f"W{l} is {layer.W.dtype} but b{l} is {layer.b.dtype}; a layer has one dtype"
        )
    if layer.b.shape[0] != layer.W.shape[1]:
        raise NetworkError(
            f"b{l} has shape {layer.b.shape} but W{l} has shape {layer.W.shape}; "
            f"expected b{l} of shape ({layer.W.shape[1]},)"
        )
    if layer.W_text is not None and text_shape(layer.W_text) != layer.W.shape:
        raise NetworkError(f"W{l} literal text does not match W{l} of shape {layer.W.shape}")
    if layer.b_text is not None and text_shape(layer.b_text) != layer.b.shape:
        raise NetworkError(f"b{l} literal text does not match b{l} of shape {layer.b.shape}")


@dataclass(frozen=True, eq=False)
class Network:
    """An immutable feed-forward network: ``layers[0]`` maps the input ``x``; the last gives ``y``.

    Args:
        layers: the layers in order (at least one).
        name: a display name (e.g. the file it came from).
        domain: the closed interval ``(low, high)`` every input value is meant to lie in (the
            book's MNIST network: ``(0.0, 1.0)``, pixels / 255), or None when the network does
            not say. Random inputs (``nnverify test``, ``check --samples``) are drawn from it.

    Example:
        >>> import numpy as np
        >>> net = Network((Layer(np.eye(2), np.zeros(2), "identity"),))
        >>> net.sizes
        (2, 2)
    """

    layers: tuple[Layer, ...]
    name: str = "network"
    domain: tuple[float, float] | None = None


    def _repr_html_(self) -> str:  # Jupyter shows it: nnverify.display
        return network_html(self)

    def _repr_latex_(self) -> str:
        return network_latex(self)

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        object.__setattr__(self, "layers", layers)
        if self.domain is not None:
            object.__setattr__(self, "domain", check_domain(self.domain))
        if not layers:
            raise NetworkError("the network has no layers; give at least one (W, b) pair")
        for l, layer in enumerate(layers, start=1):
            if not isinstance(layer, Layer):
                raise NetworkError(f"layer {l} is a {type(layer).__name__}, not a Layer")
            _check_layer(layer, l)
        for l in range(1, len(layers)):
            prev, cur = layers[l - 1], layers[l]
            if cur.n_in != prev.n_out:
                raise NetworkError(
                    f"W{l + 1} (layer {l + 1}) has shape {cur.W.shape} but layer {l} outputs "
                    f"{prev.n_out} units (W{l} has shape {prev.W.shape}); expected W{l + 1} "
                    f"of shape ({prev.n_out}, k)"
                )
        for l, layer in enumerate(layers[:-1], start=1):
            if layer.activation is Activation.SOFTMAX:
                raise NetworkError(
                    f"layer {l} is a hidden layer with softmax; softmax is allowed only on the "
                    f"output layer (layer {len(layers)})"
                )
        dtypes = {layer.dtype for layer in layers}
        if len(dtypes) > 1:
            listing = ", ".join(f"W{l}: {ly.dtype}" for l, ly in enumerate(layers, 1))
            raise NetworkError(
                f"layers have mixed dtypes ({listing}); convert them to one dtype "
                "(float32 or float64)"
            )

    # -- shape -------------------------------------------------------------------------
    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer, input first: the book network is (2, 3, 2, 2)."""
        return (self.n_inputs,) + tuple(layer.n_out for layer in self.layers)

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype

    @property
    def activations(self) -> tuple[Activation, ...]:
        return tuple(layer.activation for layer in self.layers)

    @property
    def n_params(self) -> int:
        return sum(layer.W.size + layer.b.size for layer in self.layers)

    @property
    def has_text(self) -> bool:
        """True when every weight's literal text is known (the exact-decimal model exists)."""
        return all(ly.W_text is not None and ly.b_text is not None for ly in self.layers)

    def describe(self) -> str:
        """One line: name, sizes, dtype and activations."""
        arch = "-".join(str(s) for s in self.sizes)
        acts = " -> ".join(a.value for a in self.activations)
        return f"{self.name} ({arch}, {self.dtype}): {acts}"

    # -- derived networks --------------------------------------------------------------
    def astype(self, dtype: object) -> Network:
        """The same network with weights converted to ``dtype`` (float32 or float64).

        Converting float32 to float64 is exact; float64 to float32 rounds to nearest. The
        literal text is kept: it is still what the file said.
        """
        dt = np.dtype(dtype)  # type: ignore[call-overload]
        if dt not in FLOAT_DTYPES:
            raise UsageError(f"dtype {dt} is not supported; expected float32 or float64")
        if dt == self.dtype:
            return self
        return Network(
            tuple(
                Layer(ly.W.astype(dt), ly.b.astype(dt), ly.activation, ly.W_text, ly.b_text)
                for ly in self.layers
            ),
            name=self.name,
            domain=self.domain,
        )

    def with_domain(self, domain: tuple[float, float] | None) -> Network:
        """The same network with another input domain (None: none declared)."""
        return Network(self.layers, name=self.name, domain=domain)

    def with_activations(self, activations: Sequence[Activation | str]) -> Network:
        """The same weights with new activations, one per layer."""
        acts = [Activation.parse(a) for a in activations]
        if len(acts) != len(self.layers):
            raise UsageError(
                f"{len(acts)} activations given ({', '.join(a.value for a in acts)}) but the "
                f"network has {len(self.layers)} layers; give one per layer"
            )
        return Network(
            tuple(
                Layer(ly.W, ly.b, act, ly.W_text, ly.b_text)
                for ly, act in zip(self.layers, acts)
            ),
            name=self.name,
            domain=self.domain,
        )

    @classmethod
    def from_book_dict(
        cls,
        params: Mapping[str, Any],
        *,
        activations: Sequence[Activation | str] | None = None,
        name: str = "network",
    ) -> Network:
        """The network of the book's dict ``{"W1": ..., "b1": ..., "W2": ...}`` (``init_network()``,
        ``pickle.load`` of ``sample_weight.pkl``, a class's ``self.params``).

        Args:
            params: ``W1, b1, ..., WL, bL``: NumPy arrays (float32 or float64, kept as they are) or
                nested lists of numbers (float64, exactly).
            activations: one per layer; default the book's: sigmoid on hidden layers, identity on the
                output (the book's MNIST network is ``["sigmoid", "sigmoid", "softmax"]``).
            name: a display name.

        Example:
            >>> net = Network.from_book_dict({"W1": [[1.0], [2.0]], "b1": [0.5]}, activations=["sigmoid"])
            >>> net.sizes
            (2, 1)
        """
        if not isinstance(params, Mapping):
            raise NetworkError(f"the book's network is a dict of W1, b1, ...; got a {type(params).__name__}")
        n = _book_layers(params)
        acts = [Activation.parse(a) for a in activations] if activations is not None else \
            [Activation.SIGMOID] * (n - 1) + [Activation.IDENTITY]
        if len(acts) != n:
            raise UsageError(f"{len(acts)} activations given but the dict has {n} layers (W1 ... W{n}); "
                             "give one per layer")
        layers = tuple(Layer(_book_array(params, f"W{l}"), _book_array(params, f"b{l}"), act)
                       for l, act in enumerate(acts, start=1))
        return cls(layers, name=name)

    def to_book_dict(self) -> dict[str, np.ndarray]:
        """The book's ``network`` dict: ``{"W1": ..., "b1": ..., ...}`` (writable copies)."""
        out: dict[str, np.ndarray] = {}
        for l, layer in enumerate(self.layers, start=1):
            out[f"W{l}"] = np.array(layer.W, copy=True)
            out[f"b{l}"] = np.array(layer.b, copy=True)
        return out


def _book_layers(params: Mapping[str, Any]) -> int:
    """L for keys exactly ``W1, b1, ..., WL, bL``; a one-line error naming a wrong or missing key."""
    import re

    seen: set[str] = set()
    for key in params:
        if not isinstance(key, str) or not re.fullmatch(r"[Wb][1-9][0-9]{0,5}", key):
            raise NetworkError(f"unexpected key {key!r} in the book's dict; it has only W1, b1, W2, b2, ...")
        seen.add(key)
    if not seen:
        raise NetworkError("the book's dict is empty; give W1, b1, W2, b2, ...")
    n = max(int(k[1:]) for k in seen)
    for l in range(1, n + 1):
        for key in (f"W{l}", f"b{l}"):
            if key not in seen:
                raise NetworkError(f"key {key} is missing from the book's dict; layers are W1, b1 ... W{n}, b{n} "
                                   "without gaps")
    return n


def _book_array(params: Mapping[str, Any], key: str) -> np.ndarray:
    value = params[key]
    if isinstance(value, np.ndarray) and value.dtype in FLOAT_DTYPES:
        return value
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise NetworkError(f"{key} is not an array of numbers ({exc}); give a NumPy array or nested lists") from None
    if arr.dtype.kind not in "iuf" or arr.dtype == np.float16 or arr.dtype.itemsize > 8:
        raise NetworkError(f"{key} has dtype {arr.dtype}; expected float32 or float64 numbers")
    if arr.dtype.kind in "iu" and arr.size and int(np.max(np.abs(arr))) > 2**53:
        raise NetworkError(f"{key} holds integers beyond 2**53, which float64 cannot hold exactly")
    return arr.astype(np.float64)


def network_cache(network: Network, name: str) -> dict[Any, Any]:
    """A cache dict kept on ``network`` itself, for values derived from it (models, matrices, |W|).

    A derived value often refers back to its network (a SymPy model does), so a
    ``WeakKeyDictionary`` keyed by the network would keep every network alive forever; a cache
    on the network is a cycle the garbage collector frees with it. It is not part of equality.
    """
    attr = f"_nnverify_{name}_cache"
    cache: dict[Any, Any] | None = network.__dict__.get(attr)
    if cache is None:
        cache = {}
        object.__setattr__(network, attr, cache)  # frozen dataclass: a private slot, not a field
    return cache
