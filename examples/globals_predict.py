# The weights are module-level globals and predict(x) takes only x: nnverify cannot hand it
# other weights, so it checks it against the network given with --weights (the book's by
# default) and skips the laws that need another network (hidden-permutation, --random-networks).
#   nnverify test --impl examples/globals_predict.py:predict
import numpy as np

W1 = np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]])
b1 = np.array([0.1, 0.2, 0.3])
W2 = np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]])
b2 = np.array([0.1, 0.2])
W3 = np.array([[0.1, 0.3], [0.2, 0.4]])
b3 = np.array([0.1, 0.2])


def predict(x):
    h = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    return h(h(x @ W1 + b1) @ W2 + b2) @ W3 + b3
