# The book's §3.6 MNIST inference (ch03/neuralnet_mnist.py): predict(network, x) with the trained
# weights of sample_weight.pkl, which nnverify ships as --weights book-mnist (float32, inputs in
# the network's domain [0, 1], pixels / 255 as load_mnist(normalize=True) gives them).
#
#     nnverify test --weights book-mnist --impl examples/ch03_mnist.py:predict      # passes
#
# The same code run on the book's pickle by path (nnverify recognises it by content):
#     nnverify test --weights sample_weight.pkl --impl examples/ch03_mnist.py:predict
#
# And the book's accuracy loop on nnverify's 10,000 shipped digits (not the official test set):
#     python examples/ch03_mnist.py        # Accuracy:0.9374
import numpy as np
from functions import sigmoid, softmax


def predict(network, x):
    W1, W2, W3 = network['W1'], network['W2'], network['W3']
    b1, b2, b3 = network['b1'], network['b2'], network['b3']

    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2) + b2
    z2 = sigmoid(a2)
    a3 = np.dot(z2, W3) + b3
    y = softmax(a3)

    return y


if __name__ == "__main__":
    from nnverify import load_network
    from nnverify.datasets import mnist_digits

    digits = mnist_digits()
    x = (digits.images / 255).astype(np.float32)
    t = digits.labels
    network = load_network("book-mnist").to_book_dict()

    batch_size = 100
    accuracy_cnt = 0
    for i in range(0, len(x), batch_size):
        y_batch = predict(network, x[i:i + batch_size])
        p = np.argmax(y_batch, axis=1)
        accuracy_cnt += np.sum(p == t[i:i + batch_size])

    print("Accuracy:" + str(float(accuracy_cnt) / len(x)))
