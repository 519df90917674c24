# BROKEN: the square weight matrix W3 (2 x 2) is used transposed. The shapes still fit, so
# nothing raises; the outputs are simply wrong. Caught by agreement.
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def forward(network, x):
    W1, W2, W3 = network['W1'], network['W2'], network['W3']
    b1, b2, b3 = network['b1'], network['b2'], network['b3']
    z1 = sigmoid(np.dot(x, W1) + b1)
    z2 = sigmoid(np.dot(z1, W2) + b2)
    return np.dot(z2, W3.T) + b3
