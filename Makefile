# Two commands do all set-up on a fresh machine with Python 3.11 and pip:
#   make run    creates .venv, installs, migrates, seeds demo data, starts web + worker
#   make test   the same install, then the test suite
PYTHON ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test install

# Settings keep DEBUG off unless told; these two are development, so they turn it on.
run test: export DEBUG = True

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py rundev $(ADDRPORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)
