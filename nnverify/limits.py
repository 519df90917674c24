"""Resource limits, stated once. Everything that could allocate without bound checks these first."""

from __future__ import annotations

from dataclasses import dataclass

from nnverify.errors import LimitError

__all__ = ["Limits", "DEFAULT_LIMITS", "MAX_ACTIVATION_NAME", "MAX_NAME_SHOWN"]

#: The longest activation name a weights file may declare, in characters ("identity" has 8).
MAX_ACTIVATION_NAME = 64

#: A network name (from a JSON ``"name"``) is printed up to this many characters, then cut
#: with its full length said.
MAX_NAME_SHOWN = 200


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what a weights or inputs file may ask for.

    Args:
        max_params: most weights and biases in one network (``--max-params``).
        max_file_bytes: largest weights or inputs file read (``--max-file-mb``).
        max_inputs: most input values (rows x width) in one run (``--max-inputs``).
    """

    max_params: int = 20_000_000
    max_file_bytes: int = 512 * 1024 * 1024
    max_inputs: int = 20_000_000

    def check_params(self, n: int, where: str) -> None:
        if n > self.max_params:
            raise LimitError(
                f"{where} declares {n:,} weights and biases, above the limit of "
                f"{self.max_params:,}; raise it with --max-params {n}"
            )

    def check_file_size(self, size: int, where: str) -> None:
        if size > self.max_file_bytes:
            mb = -(-size // (1024 * 1024))
            raise LimitError(
                f"{where} is {size:,} bytes, above the limit of {self.max_file_bytes:,}; "
                f"raise it with --max-file-mb {mb}"
            )

    def check_inputs(self, n: int, where: str) -> None:
        if n > self.max_inputs:
            raise LimitError(
                f"{where} holds {n:,} input values, above the limit of {self.max_inputs:,}; "
                f"raise it with --max-inputs {n}"
            )


DEFAULT_LIMITS = Limits()
