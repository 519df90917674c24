"""One exception hierarchy for everything a user can get wrong.

The library raises; only the CLI prints and chooses exit codes. Every message is one line
that names the value, the rule it breaks and the fix (with the file path, layer and key
where there is one). A failed *verification* is not an exception: checks return results.
"""

from __future__ import annotations

__all__ = [
    "NNVerifyError",
    "NetworkError",
    "WeightsFileError",
    "InputsError",
    "LimitError",
    "UsageError",
    "one_line",
]


def one_line(text: str) -> str:
    """``text`` with control characters escaped (``\n`` as ``\\n``, ESC as ``\\x1b``): a name read
    from a file or a path must neither break a one-line message nor send escape sequences to the
    terminal."""
    return "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in text)


class NNVerifyError(Exception):
    """Base class: bad input or usage. ``str(err)`` is a single line fit for a terminal."""

    exit_code = 2


class NetworkError(NNVerifyError):
    """A network that breaks a structural rule (shapes, dtype, finiteness, activations)."""


class UsageError(NNVerifyError):
    """An option or argument combination that cannot work."""


class LimitError(NNVerifyError):
    """A request that would exceed a stated resource limit; the message names the option that raises it."""


class WeightsFileError(NNVerifyError):
    """A weights file that cannot be read as a network. Always carries the path."""

    def __init__(
        self,
        path: object,
        message: str,
        *,
        fmt: str | None = None,
        key: str | None = None,
    ) -> None:
        self.path = str(path)
        self.fmt = fmt
        self.key = key
        self.reason = message
        where = self.path
        if fmt:
            where += f" (read as {fmt})"
        if key:
            where += f", key {key!r}"
        super().__init__(f"{where}: {message}")


class InputsError(NNVerifyError):
    """Network inputs that cannot be used: bad file, wrong width, non-finite values."""
