# A class-based rewrite, as readers of the book often write it: the constructor loads the
# weights into self.params, predict(self, x) reads them. nnverify builds Net() and puts the
# network it tests into the instance's one dict of W1, b1, ... before every call.
#   nnverify test --impl examples/class_params.py:Net.predict
# A module-level instance works the same way:  --impl examples/class_params.py:net.predict
import numpy as np


def _book_weights():
    return {
        "W1": np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), "b1": np.array([0.1, 0.2, 0.3]),
        "W2": np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), "b2": np.array([0.1, 0.2]),
        "W3": np.array([[0.1, 0.3], [0.2, 0.4]]), "b3": np.array([0.1, 0.2]),
    }


class Net:
    def __init__(self):
        self.params = _book_weights()

    @staticmethod
    def sigmoid(a):
        return 1.0 / (1.0 + np.exp(-a))

    def predict(self, x):
        p = self.params
        z1 = self.sigmoid(x @ p["W1"] + p["b1"])
        z2 = self.sigmoid(z1 @ p["W2"] + p["b2"])
        return z2 @ p["W3"] + p["b3"]


net = Net()
