# Two commands on a fresh machine:  `make demo` (set up + run the whole stack)  and  `make test`.
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: demo test setup setup-dev lint bench clean

demo: setup
	$(VENV)/bin/gridwatch demo

test: setup-dev
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

setup:
	VENV=$(VENV) scripts/bootstrap.sh runtime

setup-dev:
	VENV=$(VENV) scripts/bootstrap.sh dev

lint: setup-dev
	$(VENV)/bin/ruff check .

bench: setup
	$(VENV)/bin/gridwatch bench

clean:
	rm -rf var artifacts .pytest_cache
