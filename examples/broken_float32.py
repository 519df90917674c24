# BROKEN (for a float64 pipeline): one layer is computed in float32, so the result carries
# float32 rounding (about 1e-8 relative) while it claims float64 accuracy. Caught by agreement.
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def forward(network, x):
    W1, W2, W3 = network['W1'], network['W2'], network['W3']
    b1, b2, b3 = network['b1'], network['b2'], network['b3']
    z1 = sigmoid(np.dot(x, W1) + b1)
    a2 = np.dot(z1.astype(np.float32), W2.astype(np.float32)) + b2.astype(np.float32)
    z2 = sigmoid(a2).astype(np.float64)
    return np.dot(z2, W3) + b3
