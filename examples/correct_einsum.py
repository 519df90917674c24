# CORRECT but different: np.einsum instead of np.dot, and the numerically stable softmax
# row by row (shift by each row's own maximum). Passes every property.
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(a):
    shifted = a - np.max(a, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.einsum('...k->...', e)[..., None]


def forward(network, x):
    W1, W2, W3 = network['W1'], network['W2'], network['W3']
    b1, b2, b3 = network['b1'], network['b2'], network['b3']
    z1 = sigmoid(np.einsum('...i,ij->...j', x, W1) + b1)
    z2 = sigmoid(np.einsum('...i,ij->...j', z1, W2) + b2)
    return np.einsum('...i,ij->...j', z2, W3) + b3
