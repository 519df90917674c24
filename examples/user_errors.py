# User-error cases nnverify reports cleanly (as failures of the code under test, never as a
# crash of nnverify). Each function follows the book's forward(network, x) contract:
#     nnverify test --impl examples/user_errors.py:wrong_shape
import time

import numpy as np


def wrong_shape(network, x):
    """Returns the output of the first layer only: shape (3,) instead of (2,)."""
    return np.dot(x, network['W1']) + network['b1']


def returns_nan(network, x):
    """A NaN in the output (here put there on purpose; in real code: 0 * inf, inf - inf)."""
    y = np.dot(x, network['W1'][:, :2]) + network['b3']
    return y + np.nan


def hangs(network, x):
    """Never returns: stopped after --impl-timeout seconds."""
    while True:
        time.sleep(0.01)


def not_an_array(network, x):
    """Returns text."""
    return "0.3168, 0.6963"
