"""Resource limits, stated once. Everything that could allocate without bound checks these first."""

from __future__ import annotations

from dataclasses import dataclass

from nnverify.errors import LimitError

__all__ = ["Limits", "DEFAULT_LIMITS", "MAX_ACTIVATION_NAME", "MAX_NAME_SHOWN", "MAX_LAYERS",
           "JSON_VALUES_PER_PARAM", "JSON_VALUES_PER_LAYER", "MAX_NPY_TRAILING_BYTES"]

#: The longest activation name a weights file may declare, in characters ("identity" has 8).
MAX_ACTIVATION_NAME = 64

#: A network name (from a JSON ``"name"``) is printed up to this many characters, then cut
#: with its full length said.
MAX_NAME_SHOWN = 200

#: The most layers a network read from a file may have. Every layer costs Python objects (its
#: arrays, their text, its checks), so a million 1x1 layers would take gigabytes whatever
#: --max-params says; the deepest network nnverify generates for its tests has 64.
MAX_LAYERS = 10_000

#: What a JSON weights file may hold outside its arrays of plain numbers (those are parsed in
#: bulk): one weight written as a string takes at most 3 values there (the string, its comma, the
#: bracket of its own row), one layer at most 16 (keys, activation, the brackets and commas
#: around its arrays). More than this cannot be a network within --max-params.
JSON_VALUES_PER_PARAM = 3
JSON_VALUES_PER_LAYER = 16

#: An NPZ member may hold at most this many bytes beyond what its .npy header declares (NumPy
#: writes none): a member that says 8 bytes of data and inflates to a gigabyte is refused.
MAX_NPY_TRAILING_BYTES = 4096


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

    @property
    def max_json_values(self) -> int:
        """The most JSON values (strings, numbers, brackets, commas) outside arrays of plain numbers."""
        return JSON_VALUES_PER_PARAM * self.max_params + JSON_VALUES_PER_LAYER * MAX_LAYERS + 64

    def check_json_values(self, n: int, where: str, *, at_least: bool = False) -> None:
        if n > self.max_json_values:
            params = -(-(n - JSON_VALUES_PER_LAYER * MAX_LAYERS - 64) // JSON_VALUES_PER_PARAM)
            raise LimitError(
                f"{where} holds {'at least ' if at_least else ''}{n:,} JSON values outside its arrays "
                f"of numbers (strings, brackets, commas), above the limit of {self.max_json_values:,} "
                f"that --max-params {self.max_params:,} allows ({JSON_VALUES_PER_PARAM} per weight); "
                f"write the weights as arrays of numbers, or raise it with --max-params {params}"
            )

    def check_inputs(self, n: int, where: str) -> None:
        if n > self.max_inputs:
            raise LimitError(
                f"{where} holds {n:,} input values, above the limit of {self.max_inputs:,}; "
                f"raise it with --max-inputs {n}"
            )


DEFAULT_LIMITS = Limits()
