# The book's commands. Each creates .venv and installs the pinned requirements when needed.
#   make book   build the HTML site (book/_build/html), executing every chapter (cached)
#   make pdf    build the PDF (book/_build/latex/dlbook.pdf), reusing make book's executed chapters
#   make test   unit tests + a clean build of the book with -W -n, checked: HTML, offline use,
#               a real browser, the PDF, and the Binder environment (what CI runs)
#   make data   prefetch the data the chapters need (DLBOOK_PROFILE decides which)
#   make full   build the book in the full profile (GPU; the course's real sizes)
#   make spread the run-to-run spread of the headline numbers over SEEDS seeds (book/results-spread.json)
#   make smoke  only the smoke runs: every chapter's full profile on a few batches (DLBOOK_SMOKE=1)
#   make binder-check  only the Binder check (fresh venv from binder/, every chapter executed)
#   make clean  remove the build output and the execution cache
# `make pdf` and `make test` install the Debian packages they need (TeX Live, poppler, Chromium)
# with apt-get when they are missing (as root, or with sudo).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
JB_FLAGS := -W -n --keep-going
# xelatex (Jupyter Book's PDF engine), latexmk, fonts; see ../shared/TOOLCHAIN.md.
TEX_DEBS := latexmk texlive-latex-recommended texlive-fonts-recommended texlive-xetex fonts-freefont-otf
# The tests read the PDF (pdftotext, pdfimages, pdftoppm) and drive Debian's Chromium (Playwright
# uses /usr/bin/chromium; no browser is downloaded).
TEST_DEBS := $(TEX_DEBS) poppler-utils chromium

# A local mirror of the data, when one sits beside the repository (as in this project's CI).
ifeq ($(origin DLBOOK_DATA_MIRROR), undefined)
  ifneq ($(wildcard ../shared/datasets/MANIFEST.md),)
    export DLBOOK_DATA_MIRROR := $(abspath ../shared/datasets)
  endif
endif

.PHONY: install install-test book pdf data test smoke spread full clean binder-check debs-pdf debs-test

install: $(STAMP)

# What a reader needs (requirements.txt); the tests add requirements-test.txt.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $(TEST_STAMP)

data: $(STAMP)
	$(PY) -m dlbook.data fetch --book book --quiet

book: data
	$(VENV)/bin/jupyter-book build book $(JB_FLAGS)
	@echo "The book is in book/_build/html/index.html"

pdf: data debs-pdf
	$(VENV)/bin/jupyter-book build book --builder pdflatex $(JB_FLAGS)
	@echo "The PDF is in book/_build/latex/dlbook.pdf"

debs-pdf:
	@tools/ensure_debian_packages.sh $(TEX_DEBS)

debs-test:
	@tools/ensure_debian_packages.sh $(TEST_DEBS)

full:
	DLBOOK_PROFILE=full $(MAKE) book

test: data install-test debs-test
	DLBOOK_PROFILE=quick $(PY) -m pytest -p no:cacheprovider -ra --durations=25 $(PYTEST_ARGS)

# Only the smoke runs: every chapter's full profile on a few batches (also part of `make test`).
smoke: data install-test
	$(PY) -m pytest -p no:cacheprovider -ra tests/test_smoke.py $(PYTEST_ARGS)

# The run-to-run spread of every headline number: each chapter again with SEEDS seeds (default 3);
# writes book/results-spread.json, which the results page shows. About 15 minutes per seed on 2 cores.
SEEDS ?= 3
spread: data
	$(PY) tools/spread.py --seeds $(SEEDS) $(SPREAD_ARGS)

binder-check: data
	DLBOOK_PROFILE=quick $(PY) tools/check_binder.py

clean:
	rm -rf book/_build book/glossary.md test-output
