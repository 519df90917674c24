# A chapter-4 style class: the constructor takes layer sizes and draws random weights, predict
# reads self.params. nnverify cannot guess the sizes, so one line is added: a factory that
# builds the instance from the network nnverify tests.
#   nnverify test --weights book-mnist --low 0 --high 1 --impl-factory examples/class_sizes_factory.py:make
import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        rng = np.random.default_rng(0)
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }

    def predict(self, x):
        z = x
        n = len(self.params) // 2
        for l in range(1, n + 1):
            a = np.dot(z, self.params[f"W{l}"]) + self.params[f"b{l}"]
            z = 1 / (1 + np.exp(-a)) if l < n else self._softmax(a)
        return z

    @staticmethod
    def _softmax(a):
        a = a - a.max(axis=-1, keepdims=True)
        e = np.exp(a)
        return e / e.sum(axis=-1, keepdims=True)


def make(network): net = TwoLayerNet(1, 1, 1); net.params = network; return net  # noqa: E702  (the added line)
