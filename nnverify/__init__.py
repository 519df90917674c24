"""nnverify: check a NumPy neural network's forward pass against exact mathematics.

The public API is what ``__all__`` lists; everything else is private.
"""

from importlib import metadata as _metadata

from nnverify.errors import (
    InputsError,
    LimitError,
    NetworkError,
    NNVerifyError,
    UsageError,
    WeightsFileError,
)
from nnverify.inputs import Inputs, load_inputs, parse_x, sample_inputs
from nnverify.lazy import lazy_exports
from nnverify.limits import Limits
from nnverify.model import Activation, Layer, Network
from nnverify.numeric import ForwardPass, forward
from nnverify.weights import BOOK_X, book_network, load_network, save_network

try:
    __version__ = _metadata.version("nnverify")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

# The oracle (issue 3) loads lazily: python-flint and SymPy are imported on first use, so
# ``import nnverify`` and the NumPy path stay light.
_LAZY = {
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
