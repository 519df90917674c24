"""Data shown in the report's tables: the property-test summary and the table limits.

The tables themselves are built in :mod:`nnverify.report.content_check`.
"""

from __future__ import annotations

from dataclasses import dataclass

from nnverify.errors import UsageError

__all__ = ["TestSummary", "TEST_STATUSES", "MAX_TABLE_ROWS", "MAX_SUMMARY_ROWS_WITH_PREDICTIONS"]

#: Most rows in the verification table (the rest are counted, and are in ``nnverify check``).
MAX_TABLE_ROWS = 40
#: Most rows of the summary's per-input table when the predictions section shows every input
#: already (the grid of digits): the table then fits on the page after the predictions.
MAX_SUMMARY_ROWS_WITH_PREDICTIONS = 20

#: The verdicts a property can have in a :class:`TestSummary`.
TEST_STATUSES = ("passed", "failed", "skipped")


@dataclass(frozen=True)
class TestSummary:
    """The outcome of a property-test run to include in a report.

    Args:
        rows: per property ``(name, summary, examples, status, note)``; status is one of
            :data:`TEST_STATUSES`; the texts are printed escaped.
        seed: the seed the run used, if any.
        examples: examples asked for per property.
    """

    __test__ = False  # not a pytest class, despite the name

    rows: tuple[tuple[str, str, int, str, str], ...]
    seed: int | None = None
    examples: int | None = None

    def __post_init__(self) -> None:
        for row in self.rows:
            if row[3] not in TEST_STATUSES:
                raise UsageError(f"property status {row[3]!r}; expected one of {', '.join(TEST_STATUSES)}")

    @property
    def ok(self) -> bool:
        return all(row[3] != "failed" for row in self.rows)
