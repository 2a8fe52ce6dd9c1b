# Deep Learning for Computer Vision: the two commands in the README, and a few more.
#   make lab    create .venv, install everything, open JupyterLab on notebooks/
#   make test   unit tests + every notebook (fast profile) + the browser widget test
#   make unit   the pure-Python/NumPy tests only, about a minute (no TensorFlow, grading, book, notebooks)
#   make assignments   student copies and autograders in dist/assignments/ (assignments/README.md)
#   make book   the executed course as a website in _book/ (fast profile; PROFILE=full to publish)
#   make retarget REPO=you/your-fork   point every Colab badge and install line at your fork (cvhelpers/home.py)
#   make colab-check   the course in Colab's own package versions (Python 3.13), as the setup cells install it
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
# `make test` workers (pytest-xdist): each notebook and test module runs whole on one worker (JOBS=1: none).
JOBS ?= 2
XDIST := $(if $(filter-out 0 1,$(JOBS)),-n $(JOBS) --dist loadscope)

.PHONY: lab install test unit notebooks book assignments strip doctor clean spread retarget colab-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-$(TF_EXTRA): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[$(TF_EXTRA),lab,dev,grading,book]"
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
	$(BIN)/cvhelpers data fetch --profile fast   # says what it downloads first; once, then cached
	CVHELPERS_FAST=1 $(BIN)/python -m pytest --nbval-lax --durations=15 $(XDIST) $(PYTEST_ARGS)

# Pure-Python and NumPy tests and doctests, about a minute: no TensorFlow, no grading, no book, no
# browser, no notebook, nothing marked slow (markers: pyproject.toml, conftest.py). A test that leaves
# os.environ changed errors (CVHELPERS_ENV_GUARD). `make test` runs everything.
UNIT_MARKS ?= not (tf or grading or book or browser or notebook or slow)
unit: install
	CVHELPERS_FAST=1 CVHELPERS_ENV_GUARD=1 $(BIN)/python -m pytest cvhelpers tests -m "$(UNIT_MARKS)" --durations=10 $(XDIST) $(PYTEST_ARGS)

notebooks: install
	CVHELPERS_FAST=1 $(BIN)/python -m pytest --nbval-lax notebooks $(PYTEST_ARGS)

# The executed course as a Jupyter Book in _book/ (see book/build.py): executes each notebook once
# into build/book/, renders, checks the site. Fast profile unless PROFILE=full (or CVHELPERS_FAST=0);
# NOTEBOOKS="00 01 02" builds only those chapters. Needs npm once (MathJax, widget renderer).
# A notebook that fails does not stop it: its chapter shows the outputs up to the failing cell under
# an error banner, the rest is built and checked, then the failed chapters are listed and it exits 1.
PROFILE ?=
NOTEBOOKS ?=
book: install
	$(BIN)/python book/build.py $(if $(PROFILE),--profile $(PROFILE)) $(if $(NOTEBOOKS),--only $(NOTEBOOKS))

# Classroom assignments: from assignments/NN_*.ipynb build dist/assignments/student/NN_*.ipynb (for
# students), dist/assignments/solution/ and dist/assignments/autograder/NN_*.zip (for `cvhelpers grade`).
assignments: install
	$(BIN)/python -c "from cvhelpers.assignments import build; build()"

# Colab as it really is (tests/colab/check.py): a Python 3.13 venv with Colab's pins (tests/colab/colab-pins.txt;
# cached in build/colab-venv while they are unchanged), the course installed exactly as the setup cell does
# (from this checkout), then notebooks 00-04 with a stand-in google.colab, two assignments' self-checks and the
# fast unit tests, all there. Fails if the install replaced any of Colab's packages. Needs python3.13.
# COLAB_NOTEBOOKS="00 01 02" runs fewer lessons; COLAB_ONLY=venv,install,notebooks,assignments,unit some stages.
COLAB_NOTEBOOKS ?=
COLAB_ONLY ?=
colab-check: install
	$(BIN)/python tests/colab/check.py $(if $(COLAB_ONLY),--only $(COLAB_ONLY)) $(if $(COLAB_NOTEBOOKS),--notebooks $(COLAB_NOTEBOOKS))

# How much of each lesson's result is chance: notebooks NB (e.g. NB="03 05") under SEEDS and THREADS, into
# results/spread/NN.json (benchmarks/spread.py; about 5 x 2 x the notebook's time).
NB ?= 03
SEEDS ?= 1,2,3,4,5
THREADS ?= 1,2
spread: install
	$(BIN)/python benchmarks/spread.py $(NB) --seeds $(SEEDS) --threads $(THREADS)

# Remove outputs and widget state from the notebooks before committing.
strip: install
	$(BIN)/python -m cvhelpers.nbtools strip notebooks/*.ipynb assignments/*.ipynb

# The course's home on GitHub is one setting, cvhelpers/home.py (REPOSITORY, BRANCH). A fork runs
#   make retarget REPO=you/your-fork [BRANCH=main]
# once: it rewrites that setting and every Colab badge, Colab install line, book link and project URL
# in the tree (only those strings), then says what changed. Idempotent; run it again to move again.
# Plain Python, no install needed.
REPO ?=
BRANCH ?= main
retarget:
	@$(PYTHON) cvhelpers/home.py retarget "$(REPO)" --branch "$(BRANCH)"

doctor: install
	$(BIN)/cvhelpers doctor

clean:
	rm -rf $(VENV) _book build/book build/book-assets build/colab-venv test-artifacts .pytest_cache dist
