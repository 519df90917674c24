# BROKEN: softmax without subtracting the maximum first. exp(1000) overflows to inf and
# inf / inf is NaN. Caught by softmax-laws (large logits) with
#     nnverify test --impl-softmax examples/broken_softmax_no_shift.py:softmax
import numpy as np


def softmax(a):
    exp_a = np.exp(a)
    return exp_a / np.sum(exp_a, axis=-1, keepdims=True)
