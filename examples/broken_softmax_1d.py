# BROKEN on batches: the book's softmax (section 3.5.2) is written for ONE row. np.sum(exp_a)
# sums over the whole batch, so no row of a batch sums to 1. Caught by softmax-laws (row-wise)
# with --impl-softmax, and by batch-consistency/agreement on a softmax network.
import numpy as np


def softmax(a):
    c = np.max(a)
    exp_a = np.exp(a - c)  # the book's overflow guard
    sum_exp_a = np.sum(exp_a)
    y = exp_a / sum_exp_a

    return y
