"""Testing your own forward pass from your own tests (pytest, unittest, a notebook).

Three ways in, from the smallest:

- :func:`assert_forward_correct` calls your ``forward`` once on ``inputs`` and checks every
  output against the certified exact value, within the bound derived from the rounding model;
  it raises :class:`ForwardIncorrect` (an ``AssertionError``) naming the output, the exact
  value, how far off it is and the call, and returns the :class:`~nnverify.compare.CheckReport`;
- :func:`forward_inputs` is the Hypothesis strategy for a ``@given`` test (and warms the oracle
  up, so a deadline is never spent on SymPy's and python-flint's first import)::

      from hypothesis import given
      from nnverify.testing import assert_forward_correct, forward_inputs

      @given(x=forward_inputs("book", batch=(1, 4)))
      def test_my_forward(x):
          assert_forward_correct(forward, network="book", inputs=x)

- :func:`nnverify_suite` turns the whole property suite into a pytest test class, one test per
  law, run by Hypothesis with its own reporting: ``TestMyForward = nnverify_suite(forward)``.
  The pytest plugin does the same from the command line: ``pytest --nnverify-impl file.py:forward``.

``forward`` may be a Python object — a function ``forward(network, x)`` or ``predict(x)``, a
class, a bound method (see :mod:`nnverify.under_test.adapters`) — called **in this process**:
fast, your breakpoints work, but your code shares the process that computes the verdict (a
``sys.exit`` or a hang in C ends the test run) and the timeout is ``SIGALRM`` (main thread,
POSIX). Or a spec ``"file.py:forward"``, loaded and called in a **worker process** of its own,
as ``nnverify test`` does: nothing your code does can touch the verdict; each call costs a
round trip through a pipe. ``isolate=True``/``False`` chooses explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nnverify.errors import UsageError
from nnverify.model import Network

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from nnverify.compare import CheckReport
    from nnverify.suite import SuiteResult
    from nnverify.under_test import ForwardUnderTest, UserFunction

__all__ = ["ForwardIncorrect", "assert_forward_correct", "check_forward", "forward_inputs", "nnverify_suite",
           "run_nnverify_suite", "warm_up", "as_network", "implementation"]

NetworkLike = Network | Mapping[str, Any] | str | os.PathLike[str] | None


class ForwardIncorrect(AssertionError):
    """A forward pass whose outputs are not within the derived bound of the exact values.

    Attributes:
        report: the :class:`~nnverify.compare.CheckReport` with every output's verdict.
    """

    def __init__(self, message: str, report: CheckReport) -> None:
        super().__init__(message)
        self.report = report


_warm = False


def warm_up() -> None:
    """Import and exercise the oracle once per process (SymPy, python-flint): ~0.2-1 s, paid here
    rather than inside the first Hypothesis example, whose deadline it would exceed."""
    global _warm
    if _warm:
        return
    from nnverify.compare import check_outputs
    from nnverify.numeric import forward
    from nnverify.weights import BOOK_X, book_network

    net = book_network()
    check_outputs(net, BOOK_X, forward(net, BOOK_X).y, progress=False)
    _warm = True


def as_network(network: NetworkLike, activations: Sequence[str] | None = None) -> Network:
    """A :class:`Network` from a Network, the book's dict, a weights file, ``"book"``/``"book-mnist"``
    or None (the book's network)."""
    from nnverify.weights import load_network

    return load_network(network, activations=activations)


def implementation(forward: Any, *, role: str = "forward", isolate: bool | None = None,
                   timeout: float | None = None) -> UserFunction:
    """Your code as nnverify calls it (see :func:`nnverify.under_test.loader.as_user_function`).

    Args:
        forward: ``"file.py:forward"``, or a function, class or bound method.
        role: ``forward``, ``sigmoid`` or ``softmax``.
        isolate: run it in a worker process (default: yes for a spec, no for a Python object).
        timeout: seconds per call.
    """
    from nnverify.under_test.loader import as_user_function

    return as_user_function(forward, role=role, isolate=isolate, timeout=timeout)


def _under_test(forward: Any, single_input: bool, strict_dtype: bool, isolate: bool | None,
                timeout: float | None) -> ForwardUnderTest:
    from nnverify.under_test import ForwardUnderTest

    return ForwardUnderTest(implementation(forward, isolate=isolate, timeout=timeout), single_input=single_input,
                            strict_dtype=strict_dtype)


def check_forward(
    forward: Any,
    *,
    network: NetworkLike = None,
    inputs: Any = None,
    activations: Sequence[str] | None = None,
    single_input: bool = False,
    strict_dtype: bool = False,
    isolate: bool | None = None,
    timeout: float | None = None,
) -> CheckReport:
    """Call ``forward`` once on ``inputs`` and check every output; the report (never raises on a mismatch).

    Args:
        forward: your forward pass (see :func:`implementation`).
        network: what it computes: a Network, the book's dict, a weights file, ``"book"``; default the book's.
        inputs: one input ``(n,)`` or a batch ``(N, n)`` (lists work); default the book's ``x`` on the
            book's network.
        activations: one per layer, when ``network`` is a dict or file that does not say.
        single_input: call ``forward`` one row at a time.
        strict_dtype: a result of another dtype than the network's fails.
        isolate: see :func:`implementation`.
        timeout: seconds per call.

    Raises :class:`~nnverify.under_test.ImplementationFailed` (and ``ImplementationHung``) when
    your code raises, hangs or returns something that is not a float array of the right shape.
    """
    return _check(forward, network, inputs, activations, single_input, strict_dtype, isolate, timeout)[0]


def _check(forward: Any, network: NetworkLike, inputs: Any, activations: Sequence[str] | None, single_input: bool,
           strict_dtype: bool, isolate: bool | None, timeout: float | None) -> tuple[CheckReport, np.ndarray]:
    from nnverify.compare import check_outputs
    from nnverify.weights import BOOK_X

    warm_up()
    net = as_network(network, activations)
    if inputs is None:
        if net.n_inputs != len(BOOK_X):
            raise UsageError(f"the network takes {net.n_inputs} inputs; give inputs=...")
        inputs = BOOK_X
    x = np.asarray(inputs, dtype=net.dtype)
    if x.ndim not in (1, 2) or x.shape[-1] != net.n_inputs:
        raise UsageError(f"inputs have shape {x.shape}; the network takes ({net.n_inputs},) or (N, {net.n_inputs})")
    fut = _under_test(forward, single_input, strict_dtype, isolate, timeout)
    y = fut.run(net, x)
    return check_outputs(net, x, y, progress=False), x


def _explain(report: CheckReport, label: str, x: np.ndarray) -> str:
    bad = [r for r in report.results if not r.ok]
    lines = [f"{label}: {len(bad)} of {len(report.results)} outputs are not within the derived bound "
             "of the exact value"]
    for r in bad[:5]:
        where = f"row {r.input + 1} in a batch of {x.shape[0]}" if x.ndim == 2 else "one input"
        lines.append(f"  y{r.output + 1} of {where} is {float(r.value)!r}; exact {r.exact.digits(20)}, "
                     f"{r.ulp_text(report.dtype)} ulp away, bound {r.bound_ulp:.3g} ulp ({r.status})")
    if len(bad) > 5:
        lines.append(f"  ... and {len(bad) - 5} more")
    lines.append(f"  the call: x of shape {x.shape} {x.dtype} = {np.asarray(x, dtype=np.float64).tolist()!r:.400}")
    return "\n".join(lines)


def assert_forward_correct(
    forward: Any,
    *,
    network: NetworkLike = None,
    inputs: Any = None,
    activations: Sequence[str] | None = None,
    single_input: bool = False,
    strict_dtype: bool = False,
    isolate: bool | None = None,
    timeout: float | None = None,
) -> CheckReport:
    """Like :func:`check_forward`, and raise :class:`ForwardIncorrect` unless every output is ``ok``.

    Args:
        forward: your forward pass (a function, class, bound method, or ``"file.py:forward"``).
        network: what it computes (default the book's network).
        inputs: one input or a batch (default the book's ``x`` on the book's network).
        activations: one per layer, when ``network`` is a dict or file that does not say.
        single_input: call ``forward`` one row at a time.
        strict_dtype: a result of another dtype than the network's fails.
        isolate: see :func:`implementation`.
        timeout: seconds per call.

    An ``undecided`` output (the certified ball too wide to tell, rare) fails too: the assertion
    claims "proved within bound", nothing less.
    """
    report, x = _check(forward, network, inputs, activations, single_input, strict_dtype, isolate, timeout)
    if not report.ok:
        raise ForwardIncorrect(_explain(report, _callable_name(forward), x), report)
    return report


def forward_inputs(network: NetworkLike = None, *, min_value: float = -10.0, max_value: float = 10.0,
                   batch: int | tuple[int, int] | None = None,
                   activations: Sequence[str] | None = None) -> st.SearchStrategy[np.ndarray]:
    """Hypothesis strategy of inputs for ``network`` (see :func:`nnverify.strategies.inputs`); warms up the oracle.

    Args:
        network: a Network, the book's dict, a weights file or ``"book"`` (default the book's).
        min_value: smallest input value.
        max_value: largest input value.
        batch: None for one input, N for N rows, (lo, hi) for a random number of rows.
        activations: one per layer, for a dict or file that does not say.
    """
    from nnverify.strategies import inputs

    warm_up()
    return inputs(as_network(network, activations), min_value=min_value, max_value=max_value, batch=batch)


def run_nnverify_suite(
    forward: Any = None,
    *,
    network: NetworkLike = None,
    activations: Sequence[str] | None = None,
    sigmoid: Any = None,
    softmax: Any = None,
    examples: int = 60,
    seed: int = 0,
    only: Sequence[str] | None = None,
    single_input: bool = False,
    strict_dtype: bool = False,
    isolate: bool | None = None,
    min_value: float = -10.0,
    max_value: float = 10.0,
) -> SuiteResult:
    """Run nnverify's whole property suite on your code and return the verdicts (as ``nnverify test``).

    Args:
        forward: your forward pass (None: test only ``sigmoid``/``softmax`` inside nnverify's).
        network: what it computes (default the book's network).
        activations: one per layer, for a dict or file that does not say.
        sigmoid: your sigmoid ``f(a)`` to test on its own and inside nnverify's forward.
        softmax: your softmax ``f(a)``, likewise.
        examples: Hypothesis examples per property.
        seed: the Hypothesis seed (same seed, same run).
        only: property names to run (default all).
        single_input: your forward takes one input at a time.
        strict_dtype: a result of another dtype than the network's fails.
        isolate: see :func:`implementation`.
        min_value: smallest input value drawn.
        max_value: largest input value drawn.
    """
    from nnverify.suite import SuiteConfig, run_suite
    from nnverify.under_test import ForwardUnderTest

    def load(obj: Any, role: str) -> UserFunction | None:
        return None if obj is None else implementation(obj, role=role, isolate=isolate)

    impl = ForwardUnderTest(load(forward, "forward"), sigmoid=load(sigmoid, "sigmoid"),
                            softmax=load(softmax, "softmax"), single_input=single_input, strict_dtype=strict_dtype)
    ctx = SuiteConfig(as_network(network, activations), impl, min_value=min_value, max_value=max_value)
    return run_suite(ctx, only=only, max_examples=examples, seed=seed)


def nnverify_suite(forward: Any = None, *, examples: int = 60, seed: int | None = 0,
                   network: NetworkLike = None, **options: Any) -> type:
    """A pytest test class with one test per law of the suite, run by Hypothesis with its own reporting.

    Args:
        forward: your forward pass (a function, class, bound method, or ``"file.py:forward"``).
        examples: Hypothesis examples per law.
        seed: the Hypothesis seed (None: Hypothesis chooses, and its database remembers failures).
        network: what it computes (default the book's network).
        options: ``activations``, ``sigmoid``, ``softmax``, ``single_input``, ``strict_dtype``,
            ``isolate``, ``min_value``, ``max_value`` (see :func:`run_nnverify_suite`).

    Example (in ``test_my_forward.py``)::

        from my_code import forward
        from nnverify.testing import nnverify_suite

        TestMyForward = nnverify_suite(forward)

    A law that does not apply is skipped with its reason; a broken law fails with Hypothesis'
    falsifying example and nnverify's counterexample (the exact value, the bound, the call).
    """
    from nnverify.suite.standalone import suite_tests

    tests = suite_tests(forward, examples=examples, seed=seed, network=network, **options)
    return type("NNVerifySuite", (), {f"test_{name.replace('-', '_')}": staticmethod(fn) for name, fn in tests})


def _callable_name(obj: Callable[..., Any] | str) -> str:
    if isinstance(obj, str):
        return obj
    name = str(getattr(obj, "__qualname__", type(obj).__name__))
    module = getattr(obj, "__module__", None)
    return f"{module}.{name}" if module and module != "__main__" else name
