# A look-alike of the book's ch03/neuralnet_mnist.py: predict(network, x) on the trained MNIST
# network, activations imported from the neighbouring common/ folder, the accuracy loop at the
# bottom. Test it with: nnverify test --weights book-mnist --low 0 --high 1 --impl <this file>:predict
import os
import pickle
import sys

# The one line changed for nnverify: the book appends os.pardir, which is relative to the folder
# you run from; this is relative to this file, so it works from anywhere.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import numpy as np
from common.functions import sigmoid, softmax


def init_network():
    with open("sample_weight.pkl", "rb") as f:  # only when run as a script, from ch03/
        return pickle.load(f)


def predict(network, x):
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]
    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    z2 = sigmoid(a2)
    a3 = np.dot(z2, W3) + b3
    return softmax(a3)


if __name__ == "__main__":
    network = init_network()
    x = np.random.default_rng(0).random((100, 784), dtype=np.float32)
    print("predicted digits:", np.argmax(predict(network, x), axis=1)[:10])
