# CORRECT but different: each weighted sum is accumulated by hand, bias first and then the
# terms from the LAST input to the first. Floating-point addition is not associative, so the
# floats differ from np.dot's in the last bits; the derived bound covers any summation order,
# so every property passes.
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def affine(x, W, b):
    a = np.broadcast_to(b, x.shape[:-1] + b.shape).copy()
    for i in reversed(range(W.shape[0])):
        a = a + x[..., i:i + 1] * W[i]
    return a


def forward(network, x):
    W1, W2, W3 = network['W1'], network['W2'], network['W3']
    b1, b2, b3 = network['b1'], network['b2'], network['b3']
    z1 = sigmoid(affine(x, W1, b1))
    z2 = sigmoid(affine(z1, W2, b2))
    return affine(z2, W3, b3)
