# Activation functions in the shape of the book's common/functions.py: the helper that
# ch03_mnist.py imports, as the book's ch03/neuralnet_mnist.py does
# (`from common.functions import sigmoid, softmax`).
#
#     nnverify test --weights book-mnist --impl-softmax examples/functions.py:softmax   # passes
#
# softmax subtracts the maximum first (so exp never overflows) and works on one row or a batch
# of rows. sigmoid is the book's naive 1 / (1 + exp(-x)): fine on the MNIST network's inputs in
# [0, 1], where no weighted sum goes below -30, but exp(-x) overflows float32 for x < -88.7.
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    if x.ndim == 2:
        x = x.T
        x = x - np.max(x, axis=0)
        y = np.exp(x) / np.sum(np.exp(x), axis=0)
        return y.T

    x = x - np.max(x)  # guard against overflow
    return np.exp(x) / np.sum(np.exp(x))
