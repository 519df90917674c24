"""Each law of the suite as a standalone Hypothesis test, for pytest (``nnverify.testing.nnverify_suite``
and the ``pytest --nnverify-impl`` plugin), with Hypothesis' own reporting.

Unlike :func:`.runner.run_suite`, nothing is caught: a broken law raises :class:`LawBroken` out of
the ``@given`` test, so Hypothesis shrinks it and prints its falsifying example, and nnverify's
counterexample (the law, the exact value, the bound, the call exactly as made) is attached as
notes. A law that does not apply raises ``unittest.SkipTest`` with its reason (pytest skips it).
"""

from __future__ import annotations

import json
import unittest
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed

from nnverify.suite.config import SuiteConfig
from nnverify.suite.laws import PROPERTIES, LawBroken, Property
from nnverify.suite.laws.base import Recorder
from nnverify.suite.replay import encode_case

__all__ = ["law_test", "suite_tests"]


def _notes(exc: LawBroken) -> list[str]:
    cex = exc.counterexample
    out = [f"nnverify: {cex.law}", f"  {cex.message}"]
    out += [f"  {k}: {v!r:.300}" for k, v in cex.shown()]
    if cex.call is not None:
        call = cex.call
        row = f", row {call.get('row')}" if call.get("row") else ""
        out.append(f"  the call: {call.get('function')} on x of shape {tuple(call.get('shape', ()))} "
                   f"{call.get('dtype')}{row}: {call.get('x')!r:.300}")
    return out


def law_test(prop: Property, ctx: SuiteConfig, *, examples: int = 60, seed: int | None = 0) -> Callable[[], None]:
    """A test function running ``prop`` on ``ctx`` under Hypothesis (its failures shrunk and reported).

    Args:
        prop: the law.
        ctx: what to test.
        examples: Hypothesis examples.
        seed: the seed (None: Hypothesis chooses, and its example database remembers failures).
    """
    def test() -> None:
        reason = prop.skip_reason(ctx)
        if reason is not None:
            raise unittest.SkipTest(reason)
        prop.setup(ctx)
        rec = Recorder()

        @settings(max_examples=examples, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
        @given(prop.strategy(ctx))
        def law(example: Any) -> None:
            try:
                prop.check(ctx, example, rec)
            except LawBroken as exc:
                case = json.dumps(encode_case(example, ctx.network), separators=(",", ":"))
                for note in _notes(exc) + [f"  case (nnverify test --only {prop.name} ... --replay CASE): "
                                           f"{case if len(case) <= 2000 else case[:2000] + '...'}"]:
                    exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]  # 3.10: no add_note()
                raise

        if seed is not None:
            law = hypothesis_seed(seed)(law)
        law()

    test.__name__ = f"test_{prop.name.replace('-', '_')}"
    test.__doc__ = prop.summary
    return test


def suite_tests(forward: Any = None, *, examples: int = 60, seed: int | None = 0, network: Any = None,
                **options: Any) -> list[tuple[str, Callable[[], None]]]:
    """``[(law name, test function)]`` for every law, on ``forward`` (see ``nnverify.testing``).

    Args:
        forward: the forward pass (a Python object or a ``"file.py:forward"`` spec), or None.
        examples: Hypothesis examples per law.
        seed: the seed (None: Hypothesis chooses).
        network: what it computes (a Network, the book's dict, a weights file, ``"book"``).
        options: ``activations``, ``sigmoid``, ``softmax``, ``single_input``, ``strict_dtype``,
            ``isolate``, ``min_value``, ``max_value``, ``only``.
    """
    from nnverify.under_test import ForwardUnderTest
    from nnverify.under_test.loader import as_user_function
    from nnverify.weights import load_network

    isolate = options.pop("isolate", None)

    def load(obj: Any, role: str) -> Any:
        return None if obj is None else as_user_function(obj, role=role, isolate=isolate)

    impl = ForwardUnderTest(load(forward, "forward"), sigmoid=load(options.pop("sigmoid", None), "sigmoid"),
                            softmax=load(options.pop("softmax", None), "softmax"),
                            single_input=options.pop("single_input", False),
                            strict_dtype=options.pop("strict_dtype", False))
    only = options.pop("only", None)
    net = load_network(network, activations=options.pop("activations", None))
    ctx = SuiteConfig(net, impl, **options)
    return [(p.name, law_test(p, ctx, examples=examples, seed=seed)) for p in PROPERTIES
            if only is None or p.name in only]
