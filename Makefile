# Corredora CRM — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQ_STAMP := $(VENV)/.req-$(shell sha1sum requirements.txt | cut -c1-12)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium

.PHONY: run test install browser bench lint format clean

run: install ## migrate, seed the demo brokerage, serve web + worker + beat
	$(PY) -m crm.devstack run

test: install browser ## lint, then the whole test suite on the project's own PostgreSQL and Redis
	$(VENV)/bin/ruff check --quiet .
	$(PY) -m crm.devstack exec --redis test -- $(PY) -m pytest $(PYTEST_ARGS)

bench: install ## benchmarks: print numbers, assert nothing
	$(PY) -m crm.devstack exec --redis bench -- $(PY) bench/tenants.py
	$(PY) -m crm.devstack exec --redis bench -- $(PY) bench/leads.py
	$(PY) -m crm.devstack exec --redis bench -- $(PY) bench/conversations.py
	$(PY) -m crm.devstack exec --redis bench -- $(PY) bench/knowledge.py
	$(PY) -m crm.devstack exec --redis bench -- $(PY) bench/appointments.py
	$(PY) -m crm.devstack exec --redis bench -- $(PY) bench/extraction_report.py

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff format .

install: $(REQ_STAMP)

$(REQ_STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.req-* && touch $@

# Browser tests drive Debian's Chromium through Playwright (Playwright's own download cannot work here).
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; }

clean:
	rm -rf .data staticfiles .pytest_cache
