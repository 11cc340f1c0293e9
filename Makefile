# The book's commands. Each creates .venv and installs the pinned requirements when needed.
#   make book   build the HTML site (book/_build/html), executing every chapter (cached)
#   make test   unit tests + a clean build of the book with -W -n, checked (what CI runs)
#   make data   prefetch the data the chapters need (DLBOOK_PROFILE decides which)
#   make full   build the book in the full profile (GPU; the course's real sizes)
#   make clean  remove the build output and the execution cache
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

# A local mirror of the data, when one sits beside the repository (as in this project's CI).
ifeq ($(origin DLBOOK_DATA_MIRROR), undefined)
  ifneq ($(wildcard ../shared/datasets/MANIFEST.md),)
    export DLBOOK_DATA_MIRROR := $(abspath ../shared/datasets)
  endif
endif

.PHONY: install book data test full clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

data: $(STAMP)
	$(PY) -m dlbook.data fetch --book book --quiet

book: data
	$(VENV)/bin/jupyter-book build book $(JB_FLAGS)
	@echo "The book is in book/_build/html/index.html"

full:
	DLBOOK_PROFILE=full $(MAKE) book

test: data
	DLBOOK_PROFILE=quick $(PY) -m pytest -p no:cacheprovider -ra $(PYTEST_ARGS)

clean:
	rm -rf book/_build book/glossary.md test-output
