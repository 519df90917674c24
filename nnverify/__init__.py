"""nnverify: check a NumPy neural network's forward pass against exact mathematics.

The public API is what ``__all__`` lists; everything else is private.
"""

from nnverify.errors import (
    InputsError,
    LimitError,
    NetworkError,
    NNVerifyError,
    UsageError,
    WeightsFileError,
)
from nnverify.inputs import Inputs, load_inputs, parse_x, sample_inputs
from nnverify.limits import Limits
from nnverify.model import Activation, Layer, Network
from nnverify.numeric import ForwardPass, forward
from nnverify.weights import BOOK_X, book_network, load_network, save_network

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "BOOK_X",
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
