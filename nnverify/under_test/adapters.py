"""How nnverify calls the code people write: functions, classes, methods and factories.

The protocol (README, "Your own forward pass"), for the ``forward`` role:

- a function ``forward(network, x)`` (the book's contract) is called with a fresh copy of the
  book's dict and ``x``; a function ``predict(x)`` of one parameter is called with ``x`` only:
  it must compute the network given with ``--weights`` (nnverify cannot hand it other weights);
- a class ``Net`` (``FILE.py:Net`` or ``FILE.py:Net.predict``) is built once per network, the
  first way that fits: ``Net.from_network(network)`` if the class defines it; ``Net(network)``
  if ``__init__`` takes one argument; ``Net()`` if it takes none, and then the one attribute of
  the instance holding a dict of ``W1, b1, ...`` arrays (the book's ``self.params`` or
  ``self.network``) is given a fresh copy of the network before every call;
- ``--impl-factory FILE.py:make``: ``make(network)`` returns the object or function to call;
- the method called is the one named (``Net.predict``), else ``__call__``, ``predict`` or
  ``forward``, whichever the class defines first; a method of one parameter gets ``x``, of two
  ``(network, x)``.

Activations (``sigmoid``, ``softmax`` roles) are functions ``f(a)`` or classes built with no
arguments whose ``__call__``/``forward`` is called (the book's chapter 5 layers).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["Target", "ProtocolMismatch", "resolve_target", "is_book_dict"]

_BOOK_KEY = re.compile(r"[Wb][1-9][0-9]*")
_METHODS = ("__call__", "predict", "forward")


class ProtocolMismatch(Exception):
    """The named object cannot be called the way the protocol says (a one-line reason and fix)."""


def is_book_dict(value: object) -> bool:
    """A dict of ``W1, b1, ...`` keys (the book's ``network``/``params``)."""
    return (isinstance(value, Mapping) and bool(value) and "W1" in value
            and all(isinstance(k, str) and _BOOK_KEY.fullmatch(k) for k in value))


def _required_positional(func: Callable[..., Any]) -> int | None:
    """How many positional arguments ``func`` needs (None: it cannot tell, or takes *args)."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    n = 0
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            n += 1
    return n


def _defined(cls: type) -> set[str]:
    """Names the class and its bases define (``object``'s own ``__call__`` of type does not count)."""
    return {k for c in cls.__mro__[:-1] for k in vars(c)}


def _fresh(network: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.array(v, copy=True) for k, v in network.items()}


class Target:
    """One user object, ready to call: ``call(network, *args)`` does what the protocol says.

    Args:
        label: the spec, e.g. ``net.py:Net.predict``.
        role: ``forward``, ``sigmoid`` or ``softmax``.
        code: the function whose definition is shown for faults in what it returned.
        takes_network: False when the forward computes fixed weights of its own (``predict(x)``).
        how: one line saying how nnverify calls it (shown once, as a note).
    """

    def __init__(self, label: str, role: str, code: Callable[..., Any] | None, *, takes_network: bool,
                 how: str, call: Callable[..., Any]) -> None:
        self.label, self.role, self.code = label, role, code
        self.takes_network, self.how = takes_network, how
        self._call = call

    def call(self, network: Mapping[str, np.ndarray] | None, key: object, *args: Any) -> Any:
        """Call the user's code; ``network`` (the master copy) and its cache ``key`` for the forward role."""
        return self._call(network, key, *args)


def _method_of(cls: type, method: str | None, label: str) -> str:
    if method is not None:
        if not callable(getattr(cls, method, None)):
            raise ProtocolMismatch(f"{label}: class {cls.__name__} has no method {method!r}")
        return method
    for name in _METHODS:
        if name in _defined(cls) and callable(getattr(cls, name, None)):
            return name
    raise ProtocolMismatch(f"{label}: class {cls.__name__} defines none of __call__, predict, forward; "
                           f"name the method: {label}.METHOD")


def _builder(cls: type, label: str, factory: Callable[..., Any] | None) -> tuple[Callable[..., Any], str, bool]:
    """(build(network_dict) -> instance, how, attach): how nnverify makes the instance."""
    if factory is not None:
        return factory, f"built by {getattr(factory, '__name__', 'the factory')}(network)", False
    from_network = getattr(cls, "from_network", None)
    if callable(from_network):
        return from_network, f"built as {cls.__name__}.from_network(network)", False
    n = _required_positional(cls)
    if n == 1:
        return cls, f"built as {cls.__name__}(network)", False
    if n == 0:
        return (lambda _net: cls()), f"built as {cls.__name__}() and given the network in its book-style dict", True
    need = "" if n is None else f" (it needs {n} arguments)"
    raise ProtocolMismatch(
        f"{label}: nnverify cannot build {cls.__name__}{need}; give the class a from_network(network) "
        f"classmethod or an __init__(self, network), or name a factory: --impl-factory FILE.py:make "
        f"(make(network) returns the {cls.__name__})")


def _attach(obj: object, network: Mapping[str, np.ndarray], label: str) -> None:
    """Give ``obj`` fresh copies of the network in its one book-style dict attribute."""
    slots = [k for k, v in vars(obj).items() if is_book_dict(v)] if hasattr(obj, "__dict__") else []
    if len(slots) != 1:
        found = "no dict" if not slots else f"several dicts ({', '.join(slots)})"
        raise ProtocolMismatch(
            f"{label}: the instance holds {found} of W1, b1, ... arrays, so nnverify cannot give it "
            f"the network; give the class a from_network(network) classmethod or an __init__(self, network), "
            f"or name a factory: --impl-factory FILE.py:make")
    setattr(obj, slots[0], _fresh(network))


def _forward_object(obj: Any, label: str, method: str | None, factory: Callable[..., Any] | None) -> Target:
    if inspect.isclass(obj) or factory is not None:
        cls = obj if inspect.isclass(obj) else None
        name: str | None = method
        if cls is not None:
            build, how, attach = _builder(cls, label, factory)
            name = _method_of(cls, method, label)
        else:
            assert factory is not None
            build, how, attach = factory, f"built by {getattr(factory, '__name__', 'the factory')}(network)", False
        instances: dict[object, Any] = {}

        def call(network: Mapping[str, np.ndarray], key: object, x: Any) -> Any:
            inst = instances.get(key)
            if inst is None:
                inst = build(_fresh(network))
                if len(instances) > 64:
                    instances.clear()
                instances[key] = inst
            if attach:
                _attach(inst, network, label)
            f = inst if name is None and callable(inst) else getattr(inst, name or _method_of(type(inst), None, label))
            return f(_fresh(network), x) if _required_positional(f) == 2 else f(x)

        code = getattr(cls, name, None) if cls is not None and name else factory
        return Target(label, "forward", code, takes_network=True, how=how, call=call)
    if not callable(obj):
        raise ProtocolMismatch(f"{label}: is a {type(obj).__name__}, not a function")
    n = _required_positional(obj)
    name = getattr(obj, "__name__", "forward")
    holder = getattr(obj, "__self__", None)  # a bound method: the instance behind it
    if holder is None and inspect.isfunction(obj) and "." in obj.__qualname__ and \
            next(iter(inspect.signature(obj).parameters), None) == "self":
        owner = obj.__qualname__.rsplit(".", 1)[0]
        raise ProtocolMismatch(f"{label}: {obj.__qualname__} is a method of class {owner}; give the class "
                               f"({owner}) or an instance's method ({owner}().{name})")
    if n == 1 and holder is not None and hasattr(holder, "__dict__") and not inspect.ismodule(holder) \
            and any(is_book_dict(v) for v in vars(holder).values()):
        def call_bound(net: Mapping[str, np.ndarray], key: object, x: Any) -> Any:
            _attach(holder, net, label)
            return obj(x)

        return Target(label, "forward", obj, takes_network=True, call=call_bound,
                      how=f"called as .{name}(x) with the network in the instance's book-style dict")
    if n == 1:
        return Target(label, "forward", obj, takes_network=False, call=lambda net, key, x: obj(x),
                      how=f"called as {name}(x): it takes no network, so it must compute the one given "
                          "with --weights")
    if n not in (None, 2):
        raise ProtocolMismatch(f"{label}: takes {n} arguments; a forward takes (network, x), or x alone")
    return Target(label, "forward", obj, takes_network=True, how=f"called as {name}(network, x)",
                  call=lambda net, key, x: obj(_fresh(net), x))


def _activation_object(obj: Any, label: str, role: str, method: str | None) -> Target:
    if inspect.isclass(obj):
        name = method or next((m for m in ("__call__", "forward") if m in _defined(obj)), None)
        if name is None:
            raise ProtocolMismatch(f"{label}: class {obj.__name__} defines neither __call__ nor forward")
        if _required_positional(obj) not in (0, None):
            raise ProtocolMismatch(f"{label}: class {obj.__name__} needs arguments; an activation class is built as "
                                   f"{obj.__name__}()")
        inst: list[Any] = []

        def call(net: object, key: object, a: Any) -> Any:
            if not inst:
                inst.append(obj())
            return getattr(inst[0], name)(a)

        return Target(label, role, getattr(obj, name), takes_network=True, call=call,
                      how=f"built as {obj.__name__}() and called as .{name}(a)")
    if not callable(obj):
        raise ProtocolMismatch(f"{label}: is a {type(obj).__name__}, not a function")
    return Target(label, role, obj, takes_network=True, call=lambda net, key, a: obj(a), how=f"called as {role}(a)")


def resolve_target(obj: Any, label: str, role: str, *, method: str | None = None,
                   factory: Callable[..., Any] | None = None) -> Target:
    """The :class:`Target` for a user object (a function, class, instance or bound method).

    Args:
        obj: what the spec named (a class when ``method`` is given: ``Net.predict``).
        label: the spec, for messages.
        role: ``forward``, ``sigmoid`` or ``softmax``.
        method: the method named after the class, if any.
        factory: ``make(network)`` building the object to call (``--impl-factory``).
    """
    if factory is not None and obj is not None and not inspect.isclass(obj):
        raise ProtocolMismatch(f"{label}: with --impl-factory, --impl names a class (FILE.py:Net or "
                               "FILE.py:Net.predict) or is left out")
    if role == "forward":
        if method is not None and not inspect.isclass(obj):
            bound = getattr(obj, method, None)
            if not callable(bound):
                raise ProtocolMismatch(f"{label}: {type(obj).__name__} has no method {method!r}")
            return _forward_object(bound, label, None, None)
        return _forward_object(obj, label, method, factory)
    if method is not None and not inspect.isclass(obj):
        obj = getattr(obj, method, None)
        method = None
    return _activation_object(obj, label, role, method)
