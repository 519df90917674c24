"""The pytest plugin (entry point ``pytest11``): run nnverify's property suite on your forward pass.

``pytest --nnverify-impl my_code.py:forward`` adds one test per law of the suite to the run
(``nnverify[agreement]``, ``nnverify[batch-consistency]``, ...), run by Hypothesis with its own
reporting: a broken law fails with Hypothesis' falsifying example and nnverify's counterexample.
Your code is loaded and called in a worker process of its own, as with ``nnverify test``. Options:
``--nnverify-weights``, ``--nnverify-activations``, ``--nnverify-impl-sigmoid``,
``--nnverify-impl-softmax``, ``--nnverify-examples`` (default 60), ``--nnverify-seed`` (default 0),
``--nnverify-single-input``. Without ``--nnverify-impl*`` the plugin adds nothing.

From a test file instead: ``TestMyForward = nnverify.testing.nnverify_suite(forward)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

__all__ = ["pytest_addoption", "pytest_collection_modifyitems", "NNVerifyItem"]


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("nnverify", "nnverify's property suite on your forward pass")
    g.addoption("--nnverify-impl", metavar="FILE.py:forward", default=None,
                help="run nnverify's property suite on this forward pass (also package.module:forward, "
                "FILE.py:Class.method)")
    g.addoption("--nnverify-impl-sigmoid", metavar="FILE.py:sigmoid", default=None, help="a sigmoid(a) to test")
    g.addoption("--nnverify-impl-softmax", metavar="FILE.py:softmax", default=None, help="a softmax(a) to test")
    g.addoption("--nnverify-weights", metavar="PATH", default=None,
                help="the network it computes: a weights file, book or book-mnist (default: book)")
    g.addoption("--nnverify-activations", metavar="LIST", default=None,
                help="one activation per layer, comma-separated")
    g.addoption("--nnverify-examples", metavar="N", type=int, default=60, help="Hypothesis examples per law (60)")
    g.addoption("--nnverify-seed", metavar="S", type=int, default=0, help="Hypothesis seed (0)")
    g.addoption("--nnverify-single-input", action="store_true", help="the forward takes one input at a time")


class NNVerifyItem(pytest.Item):
    """One law of the suite as a pytest test."""

    def __init__(self, *, fn: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fn = fn

    def runtest(self) -> None:
        self.fn()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The broken law, then Hypothesis' falsifying example and nnverify's counterexample (the notes)."""
        exc = excinfo.value
        if not isinstance(exc, AssertionError) and type(exc).__name__ not in ("LawBroken", "HungOnCase"):
            return str(super().repr_failure(excinfo))
        return "\n".join([f"{type(exc).__name__}: {exc}", *getattr(exc, "__notes__", [])])

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "nnverify", None, self.name


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    impl = config.getoption("nnverify_impl")
    sigmoid = config.getoption("nnverify_impl_sigmoid")
    softmax = config.getoption("nnverify_impl_softmax")
    if impl is None and sigmoid is None and softmax is None:
        return
    from nnverify.errors import NNVerifyError
    from nnverify.suite.standalone import suite_tests

    acts = config.getoption("nnverify_activations")
    try:
        tests = suite_tests(impl, examples=config.getoption("nnverify_examples"),
                            seed=config.getoption("nnverify_seed"), network=config.getoption("nnverify_weights"),
                            activations=acts.split(",") if acts else None, sigmoid=sigmoid, softmax=softmax,
                            single_input=config.getoption("nnverify_single_input"))
    except NNVerifyError as exc:
        raise pytest.UsageError(f"nnverify: {exc}") from None
    for name, fn in tests:
        items.append(NNVerifyItem.from_parent(session, name=f"nnverify[{name}]", fn=fn))
