# The book's chapter 3 network with the typo fixed (identity_function). A correct forward pass:
#
#     nnverify test --impl examples/ch03_fixed.py:forward        # passes
#
# Its sigmoid is the book's naive 1 / (1 + exp(-x)): fine inside this network, but tested on its
# own with --impl-sigmoid examples/ch03_fixed.py:sigmoid the sigmoid-range property finds that
# exp(-x) overflows (a RuntimeWarning) for x below about -709.8.
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def identity_function(x):
    return x


def forward(network, x):
    W1, W2, W3 = network['W1'], network['W2'], network['W3']
    b1, b2, b3 = network['b1'], network['b2'], network['b3']

    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    z2 = sigmoid(a2)
    a3 = np.dot(z2, W3) + b3
    y = identity_function(a3)

    return y
