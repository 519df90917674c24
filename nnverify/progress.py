"""A minimal progress line on stderr for long runs (only when stderr is a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``with Progress("checking", total=1000) as p: p.advance()`` draws ``checking 10/1000 (1%)``.

    Draws at most ten times a second, only on a terminal (logs and pipes stay clean) unless
    ``force`` is set; always erases its line when done.
    """

    def __init__(
        self, label: str, total: int, *, stream: TextIO | None = None, force: bool = False
    ) -> None:
        self.label, self.total, self.done = label, max(int(total), 0), 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = force or bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0

    def __enter__(self) -> Progress:
        return self

    def advance(self, n: int = 1, note: str = "") -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last >= 0.1 or self.done >= self.total):
            self._last = now
            pct = 100 * self.done // self.total if self.total else 100
            self.stream.write(f"\r{self.label} {self.done}/{self.total} ({pct}%) {note}\x1b[K")
            self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
