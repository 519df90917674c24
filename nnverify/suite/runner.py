"""Running the laws under Hypothesis: one property, or the whole suite, as result data."""

from __future__ import annotations

import builtins
import contextlib
import importlib
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import example as hypothesis_example
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import HypothesisException, HypothesisWarning

from nnverify.errors import UsageError
from nnverify.status import PropertyStatus
from nnverify.suite.config import PROFILES, SuiteConfig
from nnverify.suite.laws import get_property, property_names
from nnverify.suite.laws.base import HungOnCase, LawBroken, Property, Recorder
from nnverify.suite.replay import decode_case, encode_case
from nnverify.suite.results import Counterexample, PropertyResult, SuiteResult

#: ``BaseExceptionGroup``: built in from Python 3.11; on 3.10 the backport Hypothesis depends on.
_Group: type[BaseException] = getattr(builtins, "BaseExceptionGroup", None) or \
    importlib.import_module("exceptiongroup").BaseExceptionGroup

__all__ = ["run_property", "run_suite"]


def _counterexample(exc: BaseException) -> Counterexample:
    if isinstance(exc, (LawBroken, HungOnCase)):
        return exc.counterexample
    # Anything else escaping a check is an error inside nnverify; say so instead of hiding it.
    return Counterexample("internal error", f"{type(exc).__name__}: {exc}")


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Keep Hypothesis from mixing constants of "local" source files into the examples.

    Hypothesis (6.131+) draws, now and then, numbers it found in the source of modules loaded
    from under the working folder. Then the examples for one seed depended on the folder
    nnverify ran in and on which user files were imported earlier in the same process (a
    loaded ``--impl`` file changed the next run's examples). Same inputs and seed must give
    the same run, so the pool is empty while a property runs. This reaches into a private
    module: if it is not there, nothing is patched.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without that module
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    make = getattr(providers, "Constants", None)
    if original is None or make is None or cache is None or not hasattr(cache, "cache"):
        yield
        return
    empty = make()
    providers._get_local_constants = lambda: empty
    cache.cache.clear()  # cached choices were computed with the old pool
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()

#: One subclass of LawBroken per (law, fault kind): Hypothesis tells bugs apart by exception
#: type and raise site, so each distinct law broken is a distinct bug it shrinks and reports.
_DISTINCT: dict[tuple[str, str], type[LawBroken]] = {}


def _distinct(exc: LawBroken) -> LawBroken:
    cex = exc.counterexample
    key = (cex.law, cex.failure.kind.value if cex.failure is not None else "")
    cls = _DISTINCT.get(key)
    if cls is None:
        cls = _DISTINCT[key] = type(f"LawBroken_{len(_DISTINCT)}", (LawBroken,), {})
    out = cls.__new__(cls)
    Exception.__init__(out, *exc.args)
    out.counterexample = cex
    return out


def _broken(exc: BaseException) -> list[BaseException]:
    """The broken laws inside what Hypothesis raised (one, or a group of distinct ones)."""
    if isinstance(exc, (LawBroken, HungOnCase)):
        return [exc]
    if isinstance(exc, _Group):
        return [e for sub in exc.exceptions for e in _broken(sub)]  # type: ignore[attr-defined]
    return []


def _checker(prop: Property, ctx: SuiteConfig, rec: Recorder) -> Callable[[Any], None]:
    """One example's check: the law, with the case that broke it attached to what it raises."""
    def check(example: Any) -> None:
        rec.example()
        broken: LawBroken | None = None
        try:
            prop.check(ctx, example, rec)
        except LawBroken as exc:
            broken = exc
        except HungOnCase as exc:
            exc.counterexample = replace(exc.counterexample, case=encode_case(example, ctx.network))
            raise
        if broken is not None:  # raised here, outside the handler: the law alone tells bugs apart
            broken.counterexample = replace(broken.counterexample, case=encode_case(example, ctx.network))
            raise _distinct(broken)

    return check


def _run_examples(
    prop: Property, ctx: SuiteConfig, rec: Recorder, max_examples: int, seed: int, *,
    max_failures: int = 1, replay: Any = None,
) -> list[BaseException]:
    """Run ``prop``'s examples under Hypothesis; the exceptions that broke the law (none: it held).

    With ``replay`` (an example), only that example runs, once (``--replay``).
    """
    check = _checker(prop, ctx, rec)
    phases = (Phase.explicit,) if replay is not None else \
        (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=max_failures > 1,
        print_blob=False,
        phases=phases,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(prop.strategy(ctx))
    def test(example: Any) -> None:
        check(example)

    if replay is not None:
        test = hypothesis_example(replay)(test)
    try:
        with _no_local_constants(), warnings.catch_warnings():
            # A 784-value input makes Hypothesis warn about its own repr of the example, with a
            # site-packages path: nnverify prints the example itself.
            warnings.filterwarnings("ignore", message="Generating overly large repr", category=HypothesisWarning)
            test()
    except (LawBroken, HungOnCase, _Group) as exc:
        found = _broken(exc)
        if found:
            return found[:max_failures]
        raise
    except HypothesisException as exc:  # e.g. Flaky: the law failed once, then not again
        return [LawBroken("reproducible failure", f"{type(exc).__name__}: {str(exc).splitlines()[0]}")]
    except Exception as exc:  # raised by nnverify itself, not by the code under test
        first = (str(exc).splitlines() or [""])[0]
        return [LawBroken("internal error in nnverify (a bug in nnverify, not in the code under test; "
                          "please report it)", f"{type(exc).__name__}: {first}")]
    return []


def run_property(
    prop: Property | str,
    ctx: SuiteConfig,
    *,
    max_examples: int = PROFILES["ci"],
    seed: int = 0,
    tick: Callable[[str], None] | None = None,
    max_failures: int = 3,
    replay: Any = None,
) -> PropertyResult:
    """Run one property under Hypothesis and return its verdict (never raises on a failure).

    Args:
        prop: the property or its name.
        ctx: what to test.
        max_examples: examples Hypothesis generates (shrinking runs come on top).
        seed: Hypothesis seed; the same seed gives the same examples and counterexample.
        tick: called with the property's name once per example (progress display).
        max_failures: report up to this many distinct counterexamples (another law or fault each).
        replay: a counterexample's ``case`` (JSON, see :mod:`.replay`): run that example alone.
    """
    if isinstance(prop, str):
        prop = get_property(prop)
    if max_examples < 1:
        raise UsageError(f"--examples {max_examples}: must be at least 1")
    if max_failures < 1:
        raise UsageError(f"--max-failures {max_failures}: must be at least 1")
    example = None if replay is None else decode_case(replay, ctx.network)
    start = time.perf_counter()
    reason = prop.skip_reason(ctx)
    if reason is not None:
        return PropertyResult(prop.name, PropertyStatus.SKIPPED, 0, reason)
    name = prop.name
    rec = Recorder(tick=(lambda: tick(name)) if tick is not None else None)
    failures: list[BaseException] = []
    try:
        prop.setup(ctx)
    except LawBroken as exc:
        failures = [exc]
    if not failures:
        failures = _run_examples(prop, ctx, rec, max_examples, seed, max_failures=max_failures, replay=example)
    seconds = time.perf_counter() - start
    if not failures:
        return PropertyResult(prop.name, PropertyStatus.PASSED, rec.examples, worst=rec.worst, seconds=seconds)
    cexs = [_counterexample(f) for f in failures]
    cex = cexs[0]
    return PropertyResult(prop.name, PropertyStatus.FAILED, rec.examples, f"{cex.law}: {cex.message}", cex,
                          rec.worst, seconds, tuple(cexs[1:]))


def run_suite(
    ctx: SuiteConfig,
    *,
    only: Sequence[str] | None = None,
    max_examples: int = PROFILES["ci"],
    seed: int = 0,
    tick: Callable[[str], None] | None = None,
    max_failures: int = 3,
) -> SuiteResult:
    """Run the named properties (default: all) and return every verdict.

    Args:
        ctx: what to test.
        only: property names to run (default: all, in ``PROPERTIES`` order).
        max_examples: examples per property.
        seed: Hypothesis seed, the same for every property.
        tick: called with the property's name once per example (progress display).
        max_failures: distinct counterexamples reported per property.

    A property that cannot apply is ``skipped`` with the reason. After the implementation
    under test hangs once, the properties after it are skipped rather than hang again.
    """
    names = list(only) if only else list(property_names())
    props = [get_property(n) for n in names]
    results: list[PropertyResult] = []
    hung: str | None = None
    for prop in props:
        if hung is not None and prop.skip_reason(ctx) is None:
            results.append(PropertyResult(prop.name, PropertyStatus.SKIPPED, 0,
                                          f"not run: the implementation under test hung in {hung}"))
            continue
        res = run_property(prop, ctx, max_examples=max_examples, seed=seed, tick=tick, max_failures=max_failures)
        if res.counterexample is not None and res.counterexample.is_timeout:
            hung = prop.name
        results.append(res)
    return SuiteResult(tuple(results), seed, max_examples, ctx.impl.label, ctx.impl.notes)
