# Chapter-5 style activation layers: classes with forward(x). nnverify builds Sigmoid() and
# calls .forward(a).
#   nnverify test --impl-sigmoid examples/layers_like.py:Sigmoid
import numpy as np


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        # exp of a non-positive number only: no overflow for any input
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        self.out = out
        return out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out
