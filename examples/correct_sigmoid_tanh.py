# CORRECT but different: sigmoid(a) = (1 + tanh(a / 2)) / 2, the same function written through
# tanh. It never overflows. Its floats differ from 1 / (1 + exp(-a)) in the last bits, within the
# derived bound, so every property passes:
#     nnverify test --impl examples/correct_sigmoid_tanh.py:forward
#     nnverify test --impl-sigmoid examples/correct_sigmoid_tanh.py:sigmoid
import numpy as np


def sigmoid(x):
    return 0.5 * (1 + np.tanh(x / 2))


def forward(network, x):
    W1, W2, W3 = network['W1'], network['W2'], network['W3']
    b1, b2, b3 = network['b1'], network['b2'], network['b3']
    z1 = sigmoid(np.dot(x, W1) + b1)
    z2 = sigmoid(np.dot(z1, W2) + b2)
    return np.dot(z2, W3) + b3
