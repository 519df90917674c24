# Keras-style: every input is made a batch first, so one input comes back with shape (1, k).
# nnverify accepts (1, k) for one input (k,) and says so in a note.
#   nnverify test --impl examples/keras_like.py:predict
import numpy as np


def predict(network, x):
    x = np.atleast_2d(x)
    z = x
    for l in (1, 2, 3):
        a = z @ network[f"W{l}"] + network[f"b{l}"]
        z = 1 / (1 + np.exp(-a)) if l < 3 else a
    return z
