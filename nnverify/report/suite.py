"""Running the property suite (:mod:`nnverify.suite`) for a report's "Property tests" section."""

from __future__ import annotations

from nnverify.model import Network
from nnverify.report.tables import TestSummary

__all__ = ["run_property_suite", "summary_from_suite", "REPORT_EXAMPLES"]

#: Examples per property when a report runs the suite (the ``quick`` profile of ``nnverify test``).
REPORT_EXAMPLES = 20


def summary_from_suite(result: object) -> TestSummary:
    """A :class:`TestSummary` from a :class:`nnverify.suite.SuiteResult`."""
    from nnverify.suite import PROPERTIES

    summaries = {p.name: p.summary for p in PROPERTIES}
    rows = []
    for r in result.results:  # type: ignore[attr-defined]
        if r.status == "passed":
            note = f"worst {r.worst_text}" if r.worst else ""
        else:
            note = r.reason or ""
        rows.append((r.name, summaries.get(r.name, ""), int(r.examples), r.status, note))
    return TestSummary(tuple(rows), seed=int(result.seed),  # type: ignore[attr-defined]
                       examples=int(result.max_examples))  # type: ignore[attr-defined]


def run_property_suite(network: Network, *, seed: int = 0, examples: int = REPORT_EXAMPLES) -> TestSummary:
    """Run every property of the suite on ``network`` with nnverify's NumPy forward pass.

    Args:
        network: the network.
        seed: Hypothesis seed (same seed, same examples, same summary).
        examples: examples per property.
    """
    from nnverify.suite import SuiteConfig, run_suite

    return summary_from_suite(run_suite(SuiteConfig(network), max_examples=examples, seed=seed))
