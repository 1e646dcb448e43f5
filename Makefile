# The two commands a newcomer needs: `make demo` and `make test`.
# `make demo` installs only what the app needs; `make test` and `make lint` add the `dev` extra.
# Each install leaves a stamp in the venv, so switching between them reinstalls nothing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The venv is made without its own copy of pip when the interpreter has a pip that can install
# into another environment (pip >= 22.3, `--python`): bootstrapping pip into every new venv
# takes seconds. Otherwise the venv gets its own pip. --no-compile: Python compiles what it
# imports on first use; compiling every dependency up front would add seconds too.
HOST_PIP := $(shell $(PYTHON) -m pip --python "$$(command -v $(PYTHON))" --version >/dev/null 2>&1 && echo yes)
ifeq ($(HOST_PIP),yes)
VENV_FLAGS := --without-pip
PIP := $(PYTHON) -m pip --python $(BIN)/python install -q --disable-pip-version-check --no-compile
else
VENV_FLAGS :=
PIP := $(BIN)/pip install -q --disable-pip-version-check --no-compile
endif

.PHONY: demo test lint install install-app clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)

# The app and its runtime dependencies.
$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

# The app plus the test and lint tools (which covers the app's own stamp too).
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) -e ".[dev]"
	@touch $@ $(VENV)/.installed-app

install-app: $(VENV)/.installed-app

install: $(VENV)/.installed-dev

demo: install-app
	$(BIN)/okr demo

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) okr-demo .pytest_cache .mypy_cache .ruff_cache
