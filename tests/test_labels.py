"""Labels on any inputs file (.npz, CSV header, --labels FILE), row selections, and their bad input."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnverify.cli import main
from nnverify.errors import InputsError, LimitError
from nnverify.input_files import load_inputs, load_labels
from nnverify.inputs import Inputs
from nnverify.labels import select_rows
from nnverify.limits import Limits

X = np.array([[0.0, 0.5], [1.0, 0.25], [0.5, 0.5]])


def test_an_npz_with_x_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=X, labels=np.array([1, 0, 1], dtype=np.uint8))
    inp = load_inputs(path)
    assert np.array_equal(inp.values, X) and inp.labels is not None and inp.labels.tolist() == [1, 0, 1]
    np.savez(path, inputs=X)
    assert load_inputs(path).labels is None


def test_a_csv_header_with_a_label_column_kaggle_style(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("pixel0,Label,pixel1\n0,1,0.5\n1,0,0.25  # a comment\n")
    inp = load_inputs(path)
    assert inp.values.tolist() == [[0.0, 0.5], [1.0, 0.25]] and inp.labels.tolist() == [1, 0]  # type: ignore[union-attr]
    assert inp.text == (("0", "0.5"), ("1", "0.25"))
    path.write_text("0,1\n0.5,1\n")  # no header: no labels, as before
    assert load_inputs(path).labels is None


@pytest.mark.parametrize(("text", "labels"), [("7\n2\n1\n", [7, 2, 1]), ("[7, 2, 1]", [7, 2, 1]),
                                              ("7, 2 # ...\n1.0", [7, 2, 1])])
def test_label_files_in_text(tmp_path: Path, text: str, labels: list[int]) -> None:
    path = tmp_path / "labels.txt"
    path.write_text(text)
    assert load_labels(path).tolist() == labels


def test_label_files_as_npy_and_npz(tmp_path: Path) -> None:
    np.save(tmp_path / "l.npy", np.array([3, 1], dtype=np.int16))
    assert load_labels(tmp_path / "l.npy").tolist() == [3, 1]
    np.savez(tmp_path / "l.npz", labels=np.array([3.0, 1.0]))
    assert load_labels(tmp_path / "l.npz").tolist() == [3, 1]


def test_selection_keeps_labels_text_and_positions() -> None:
    inp = Inputs(X, (("a", "b"), ("c", "d"), ("e", "f")), "f.csv", labels=np.array([1, 0, 1]))
    rows = select_rows(3, inp.labels, per_class=1)
    assert rows is not None and rows.tolist() == [0, 1]
    sub = inp.select(np.array([2, 0])).select(np.array([1]))
    assert sub.index.tolist() == [0] and sub.labels.tolist() == [1] and sub.text == (("a", "b"),)  # type: ignore[union-attr]
    assert select_rows(3, None) is None


def test_an_npz_declaring_a_huge_array_is_refused_before_allocation(tmp_path: Path) -> None:
    path = tmp_path / "big.npz"
    np.savez(path, x=np.zeros((10, 2)))
    with pytest.raises(LimitError, match="holds 20 input values, above the limit of 10"):
        load_inputs(path, limits=Limits(max_inputs=10))


def _pickled_npz(path: Path) -> None:
    buf = path.open("wb")
    with zipfile.ZipFile(buf, "w") as zf:
        with zf.open("x.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array([[1.0, 2.0]]))
        with zf.open("labels.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array([print], dtype=object), allow_pickle=True)
    buf.close()


def _labels_without_inputs(path: Path) -> None:
    np.savez(path, labels=np.array([1, 0]))


def _images_npz(path: Path) -> None:
    np.savez(path, images=np.zeros((2, 784), np.uint8), labels=np.array([1, 0]))


# (what, files to write: name -> writer or text, argv, the one line expected on stderr)
BAD = [
    ("labels of the wrong length", {"x.npy": X, "l.txt": "1\n0\n"},
     ["forward", "--inputs", "x.npy", "--labels", "l.txt"],
     "l.txt: holds 2 labels for 3 inputs; give one label per input row"),
    ("a label outside the output range", {"x.npy": X, "l.txt": "1\n0\n2\n"},
     ["check", "--inputs", "x.npy", "--labels", "l.txt"],
     "l.txt: label 2 (row 2) is outside the network's 2 classes 0..1; labels are 0-based like np.argmax"),
    ("a negative label", {"d.csv": "label,a,b\n-1,0,0\n"}, ["forward", "--inputs", "d.csv"],
     "d.csv: label -1 (row 0) is negative; classes are numbered from 0"),
    ("a label that is not a whole number", {"d.csv": "label,a,b\n1.5,0,0\n"}, ["forward", "--inputs", "d.csv"],
     "d.csv: label '1.5' (row 0) is not a whole number"),
    ("a CSV row shorter than its header", {"d.csv": "label,a,b\n1,0\n"}, ["forward", "--inputs", "d.csv"],
     "d.csv: row 0 has 2 values but the header names 3 columns"),
    ("images of the wrong width", {"x.npy": np.zeros((2, 783))},
     ["check", "--weights", "book-mnist", "--inputs", "x.npy"],
     "x.npy: gives 783 values per input but the network takes 784 (W1 has shape (784, 50))"),
    ("the digits on a 2-input network", {}, ["forward", "--inputs", "mnist-digits"],
     "mnist-digits: gives 784 values per input but the network takes 2 (W1 has shape (2, 3)); the digits "
     "are 28x28 images, for a 784-input network such as --weights book-mnist"),
    ("an .npz with pickled objects", {"p.npz": _pickled_npz}, ["forward", "--inputs", "p.npz"],
     "p.npz: member 'labels' holds Python objects (dtype object); save plain numeric arrays (nothing from this "
     "file was run)"),
    ("an .npz with labels but no inputs", {"l.npz": _labels_without_inputs}, ["forward", "--inputs", "l.npz"],
     "l.npz: holds 'labels' but no inputs; an inputs .npz holds 'x' (or 'inputs')"),
    ("an .npz of images, not inputs", {"i.npz": _images_npz}, ["forward", "--weights", "book-mnist", "--inputs", "i.npz"],
     "(for the shipped digits use --inputs mnist-digits)"),
    ("a label file without inputs", {"l.txt": "1\n"}, ["check", "--labels", "l.txt"],
     "--labels l.txt gives the class of each input row, but no inputs were given; add --inputs FILE (or --x)"),
    ("a label file with random samples", {"l.txt": "1\n"}, ["check", "--samples", "1", "--labels", "l.txt"],
     "but no inputs were given"),
    ("labels twice", {"l.txt": "1\n"}, ["forward", "--weights", "book-mnist", "--inputs", "mnist-digits",
                                        "--first", "1", "--labels", "l.txt"],
     "l.txt: mnist-digits already carries labels; give the labels once"),
    ("a labels file that holds inputs", {"d.npz": {"x": X, "labels": np.array([0, 1, 0])}, "x.npy": X},
     ["forward", "--inputs", "x.npy", "--labels", "d.npz"],
     "d.npz: holds inputs and labels; give it as --inputs d.npz"),
    ("a labels file of garbage", {"x.npy": X, "l.txt": "one\ntwo\nthree\n"},
     ["forward", "--inputs", "x.npy", "--labels", "l.txt"], "l.txt: label 'one' (row 0) is not a whole number"),
    ("--per-class without labels", {"x.npy": X}, ["forward", "--inputs", "x.npy", "--per-class", "1"],
     "--per-class needs labels, and x.npy has none; give --labels FILE or use --first"),
    ("--indices out of range", {"x.npy": X}, ["forward", "--inputs", "x.npy", "--indices", "0,3"],
     "--indices: 3 is outside x.npy's rows 0..2 (0-based)"),
    ("--indices not numbers", {}, ["forward", "--weights", "book-mnist", "--inputs", "mnist-digits", "--indices", "a"],
     "--indices 'a': give whole numbers, e.g. --indices 0,17,42"),
    ("--first beyond the digits", {}, ["check", "--weights", "book-mnist", "--inputs", "mnist-digits", "--first", "10001"],
     "--first 10001: mnist-digits has 10,000 rows; give 1 to 10000"),
]


@pytest.mark.parametrize(("what", "files", "argv", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_labels_and_inputs_are_one_line_errors_with_exit_2(
    what: str, files: dict[str, object], argv: list[str], message: str,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        if isinstance(content, str):
            Path(name).write_text(content)
        elif isinstance(content, np.ndarray):
            np.save(name, content)
        elif isinstance(content, dict):
            np.savez(name, **content)
        else:
            content(Path(name))  # type: ignore[operator]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert lines[0].startswith(f"nnverify {argv[0]}: error: ")


def test_a_pickled_npz_member_is_never_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "p.npz"
    with zipfile.ZipFile(path, "w") as zf, zf.open("x.npy", "w") as fh:
        np.lib.format.write_array(fh, np.array([[1.0]]))
    with zipfile.ZipFile(path, "a") as zf, zf.open("labels.npy", "w") as fh:
        np.lib.format.write_array(fh, np.array([_Boom()], dtype=object), allow_pickle=True)
    with pytest.raises(InputsError, match="holds Python objects"):
        load_inputs(path)
    assert not _Boom.ran


class _Boom:
    ran = False

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_Boom._explode, ())

    @staticmethod
    def _explode() -> None:
        _Boom.ran = True


def test_labels_reach_check_json_from_a_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n1.0,0.5,1\n0,0,1\n")
    assert main(["check", "--inputs", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["accuracy"] == 1.0 and [r["label"] for r in doc["predictions"]["rows"]] == [1, 1]
