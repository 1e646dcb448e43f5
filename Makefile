# The two commands a newcomer needs: `make demo` and `make test`.
# `make demo` installs only what the app needs; `make test` and `make lint` add the `dev` extra.
# Each install leaves a stamp in the venv, so switching between them reinstalls nothing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Installing: uv (https://docs.astral.sh/uv/) when it can be had, pip otherwise. uv installs
# the ~40 dependencies in about 2 s where pip takes about 9 s. It is taken from PATH or fetched
# into the venv, and nothing else depends on it: the project is a plain pip-installable
# package. Any failure of uv falls back to pip (for instance on a machine whose package index
# is configured for pip only); NO_UV=1 asks for pip.
# The venv is made without its own copy of pip (bootstrapping pip into every new venv takes
# seconds): the interpreter's own pip installs into it (pip >= 22.3, `--python`); when that
# pip cannot, the venv gets its own pip after all.
# --no-compile: Python compiles what it imports on first use, and compiling every dependency
# up front would add seconds to `make demo`. `make install` (the tests) does compile: the suite
# starts many processes, and where PYTHONDONTWRITEBYTECODE is set each of them would compile
# everything it imports again.
PIP_FLAGS := install -q --disable-pip-version-check --no-compile
HOST_PIP := $(PYTHON) -m pip --python $(BIN)/python $(PIP_FLAGS)
UV_SPEC ?= uv>=0.5,<1
NO_UV ?=
# $(call install,SPEC,UV_FLAGS): uv first, pip if uv is missing or fails.
define install
	@uv=$$(command -v uv || true); \
	if [ -z "$(NO_UV)" ] && [ -z "$$uv" ] && { [ -x $(BIN)/uv ] || $(HOST_PIP) "$(UV_SPEC)" >/dev/null 2>&1; }; then uv=$(BIN)/uv; fi; \
	if [ -z "$(NO_UV)" ] && [ -n "$$uv" ] && "$$uv" pip install -q --python $(BIN)/python $(2) $(1); then exit 0; fi; \
	echo "installing with pip"; \
	$(HOST_PIP) $(1) || { $(BIN)/python -m ensurepip >/dev/null && $(BIN)/python -m pip $(PIP_FLAGS) $(1); }
endef

.PHONY: demo test lint install install-app clean

$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)

# The app and its runtime dependencies.
$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(call install,-e .,)
	@touch $@

# The app plus the test and lint tools (which covers the app's own stamp too).
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(call install,-e ".[dev]",--compile-bytecode)
	@$(BIN)/python -m compileall -q -j0 app blocks handlers scheduler scoring >/dev/null
	@touch $@ $(VENV)/.installed-app

install-app: $(VENV)/.installed-app

install: $(VENV)/.installed-dev

demo: install-app
	$(BIN)/okr demo

# The suite on every core (pytest-xdist; each worker makes databases of its own): about
# 7 minutes on two cores instead of 12. TEST_JOBS=0 runs it in this one process.
TEST_JOBS ?= auto
test: install
	$(BIN)/pytest -n $(TEST_JOBS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) okr-demo .pytest_cache .mypy_cache .ruff_cache
