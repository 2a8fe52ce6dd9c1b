# Deep Learning for Computer Vision: the two commands in the README, and a few more.
#   make lab    create .venv, install everything, open JupyterLab on notebooks/
#   make test   unit tests + every notebook (fast profile) + the browser widget test
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# TensorFlow build: the CUDA one where an NVIDIA driver is present (override: make lab GPU=0|1).
GPU ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo 1 || echo 0)
TF_EXTRA := $(if $(filter 1,$(GPU)),gpu,cpu)
# Pre-fetched course data next to the repo (a classroom share / the offline mirror), if any.
export CVHELPERS_DATA_DIR ?= $(wildcard $(abspath ../shared/data))
PYTEST_ARGS ?=

.PHONY: lab install test unit notebooks book strip doctor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-$(TF_EXTRA): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[$(TF_EXTRA),dev]"
	rm -f $(VENV)/.installed-*; touch $@

install: $(VENV)/.installed-$(TF_EXTRA)

# JupyterLab on localhost:$(LAB_PORT) with a fresh token, whose URL is printed first. As root (Docker,
# cloud VMs, some WSL set-ups) Jupyter refuses to start without --allow-root: it is added only then.
LAB_PORT ?= 8888
lab: install
	@token=$$($(BIN)/python -c "import secrets; print(secrets.token_hex(24))"); \
	root=$$([ "$$(id -u)" = 0 ] && echo --allow-root); \
	echo ""; \
	echo "  JupyterLab: open http://localhost:$(LAB_PORT)/lab?token=$$token"; \
	echo "  (stop it with Ctrl-C; port taken? make lab LAB_PORT=8890)$${root:+; running as root: --allow-root}"; \
	echo ""; \
	exec $(BIN)/jupyter lab notebooks/ --ServerApp.port=$(LAB_PORT) --ServerApp.port_retries=0 \
		--IdentityProvider.token=$$token $$root

# The README's test command. Fast profile: offline mirror data, subsets, few epochs.
test: install
	CVHELPERS_FAST=1 $(BIN)/python -m pytest --nbval-lax --durations=15 $(PYTEST_ARGS)

unit: install
	CVHELPERS_FAST=1 $(BIN)/python -m pytest tests $(PYTEST_ARGS)

notebooks: install
	CVHELPERS_FAST=1 $(BIN)/python -m pytest --nbval-lax notebooks $(PYTEST_ARGS)

# The executed course as an HTML book in _book/ (profile from CVHELPERS_FAST; default full).
book: install
	mkdir -p _book
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=-1 --output-dir _book notebooks/*.ipynb

# Remove outputs and widget state from the notebooks before committing.
strip: install
	$(BIN)/python -m cvhelpers.nbtools strip notebooks/*.ipynb

doctor: install
	$(BIN)/cvhelpers doctor

clean:
	rm -rf $(VENV) _book test-artifacts .pytest_cache
