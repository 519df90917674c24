"""nnverify: check a NumPy neural network's forward pass against exact mathematics.

The public API is what ``__all__`` lists; everything else is private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nnverify.lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time every name loads on first use
    from nnverify.bounds import forward_error_bounds
    from nnverify.certified import CertifiedPass, Enclosure, certify
    from nnverify.compare import CheckReport, OutputResult, check, check_outputs
    from nnverify.errors import (
        InputsError,
        LimitError,
        NetworkError,
        NNVerifyError,
        UsageError,
        WeightsFileError,
    )
    from nnverify.input_files import load_inputs
    from nnverify.inputs import Inputs, parse_x, sample_inputs
    from nnverify.limits import Limits
    from nnverify.model import Activation, Layer, Network
    from nnverify.modes import Mode
    from nnverify.numeric import ForwardPass, forward
    from nnverify.symbolic import SymbolicModel, build_model
    from nnverify.version import __version__
    from nnverify.weights import BOOK_X, book_network, load_network, save_network

# Every name loads on first use: ``import nnverify`` costs nothing, the oracle (python-flint,
# SymPy) loads only when used, and the command line's start-up is interruptible quietly (the
# console script imports this package before ``main`` can catch Ctrl-C).
_LAZY = {
    **{name: "nnverify.errors" for name in ("InputsError", "LimitError", "NetworkError", "NNVerifyError",
                                            "UsageError", "WeightsFileError")},
    **{name: "nnverify.inputs" for name in ("Inputs", "parse_x", "sample_inputs")},
    "load_inputs": "nnverify.input_files",
    **{name: "nnverify.model" for name in ("Activation", "Layer", "Network")},
    **{name: "nnverify.weights" for name in ("BOOK_X", "book_network", "load_network", "save_network")},
    "Limits": "nnverify.limits",
    "__version__": "nnverify.version",
    "ForwardPass": "nnverify.numeric",
    "forward": "nnverify.numeric",
    "Mode": "nnverify.modes",
    "build_model": "nnverify.symbolic",
    "SymbolicModel": "nnverify.symbolic",
    "certify": "nnverify.certified",
    "CertifiedPass": "nnverify.certified",
    "Enclosure": "nnverify.certified",
    "forward_error_bounds": "nnverify.bounds",
    "check": "nnverify.compare",
    "check_outputs": "nnverify.compare",
    "CheckReport": "nnverify.compare",
    "OutputResult": "nnverify.compare",
}


__all__ = [
    "Activation",
    "BOOK_X",
    "CertifiedPass",
    "CheckReport",
    "Enclosure",
    "Mode",
    "OutputResult",
    "SymbolicModel",
    "build_model",
    "certify",
    "check",
    "check_outputs",
    "forward_error_bounds",
    "ForwardPass",
    "Inputs",
    "InputsError",
    "Layer",
    "LimitError",
    "Limits",
    "NNVerifyError",
    "Network",
    "NetworkError",
    "UsageError",
    "WeightsFileError",
    "__version__",
    "book_network",
    "forward",
    "load_inputs",
    "load_network",
    "parse_x",
    "sample_inputs",
    "save_network",
]

__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
