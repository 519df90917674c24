# Written for one input at a time, with plain loops (x is a flat list of numbers): given a
# batch it raises. Tell nnverify:  nnverify test --single-input --impl examples/one_input_only.py:forward
import math

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))


def layer(x, W, b, h):
    n_in, n_out = W.shape
    if len(x) != n_in:
        raise ValueError(f"expected {n_in} inputs, got {len(x)}")
    out = []
    for j in range(n_out):
        a = float(b[j])
        for i in range(n_in):
            a += float(x[i]) * float(W[i][j])
        out.append(h(a))
    return out


def forward(network, x):
    z1 = layer(x, network["W1"], network["b1"], sigmoid)
    z2 = layer(z1, network["W2"], network["b2"], sigmoid)
    return np.array(layer(z2, network["W3"], network["b3"], lambda a: a))
