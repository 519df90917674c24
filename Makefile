# Both entry points bootstrap their own virtual environment in .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test lint reports bench clean

# OpenBLAS picks its kernels by CPU and they sum in different orders: the README's and the
# reports' float32 digits come from the Haswell kernel (AVX2), pinned here and in tests/conftest.py.
export OPENBLAS_CORETYPE ?= Haswell

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## demo: the main job on the embedded default (the book's §3.4 network), then the book's §3.6
## on 10,000 real MNIST digits: accuracy, certified predictions and the time taken
demo: $(STAMP)
	$(BIN)/nnverify forward
	$(BIN)/nnverify check
	$(BIN)/nnverify test
	$(BIN)/nnverify report -o reports/book.tex
	@echo "$$ nnverify check --weights book-mnist --inputs mnist-digits   # the book's §3.6 on real digits"
	@$(BIN)/python -c 'import sys, time; from nnverify.cli import main; t = time.perf_counter(); \
	code = main(["check", "--weights", "book-mnist", "--inputs", "mnist-digits"]); \
	print(f"time: {time.perf_counter() - t:.1f} s for 10,000 digits (the book prints Accuracy:0.9352 for the official test set)"); \
	sys.exit(code)'

## test: the whole suite (Hypothesis profile from NNVERIFY_PROFILE, default dev; CI uses ci)
test: $(STAMP)
	$(BIN)/python -m pytest -q

## lint: types (mypy --strict, configured in pyproject.toml) and style (ruff)
lint: $(STAMP)
	$(BIN)/mypy
	$(BIN)/ruff check nnverify tests benchmarks scripts examples

## reports: regenerate the canonical reports (book network in English and Chinese, as HTML; MNIST
## network on the first 100 real digits, also as HTML): .tex, and .pdf with TeX
reports: $(STAMP)
	$(BIN)/nnverify report -o reports/book.tex
	$(BIN)/nnverify report --lang zh -o reports/book-zh.tex
	$(BIN)/nnverify report -o reports/book.html
	$(BIN)/nnverify report --weights book-mnist -o reports/book-mnist.tex
	$(BIN)/nnverify report --weights book-mnist -o reports/book-mnist.html

## bench: performance ratios measured side by side
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## reliability: run the fuzz and fault tests; rewrite the README's reliability table from them
.PHONY: reliability
reliability: $(STAMP)
	$(BIN)/python scripts/reliability_table.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
