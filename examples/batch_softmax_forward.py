# BROKEN only on batches: the book's forward pass with the book's one-row softmax (section
# 3.5.2) on a softmax output layer. For one input it is right; for a batch, np.sum(exp_a) adds
# up the whole batch, so no row sums to 1. Calling it on the failing row alone gives the right
# answer; the counterexample records the whole call (the batch) and `--replay` reruns it.
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(a):
    c = np.max(a)
    exp_a = np.exp(a - c)
    return exp_a / np.sum(exp_a)


def forward(network, x):
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    z1 = sigmoid(np.dot(x, W1) + b1)
    z2 = sigmoid(np.dot(z1, W2) + b2)
    return softmax(np.dot(z2, W3) + b3)
