# BROKEN in float32: tanh written as (e^2a - 1) / (e^2a + 1). exp(2a) overflows to inf in
# float32 once 2a > 88.7, and inf / inf is NaN. nnverify reports "returned NaN at output k"
# first, not just the overflow warning the book's harmless sigmoid also gives.
#   nnverify test --dtype float32 --activations tanh,tanh,identity --low -200 --high 200 --impl examples/float32_tanh.py:forward
import numpy as np


def tanh(a):
    e = np.exp(2 * a)
    return (e - 1) / (e + 1)


def forward(network, x):
    z1 = tanh(x @ network["W1"] + network["b1"])
    z2 = tanh(z1 @ network["W2"] + network["b2"])
    return z2 @ network["W3"] + network["b3"]
