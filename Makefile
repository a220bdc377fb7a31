# Every target runs inside .venv, which is created on first use and re-installed only when
# pyproject.toml changes (the stamp file records the last install).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The static checks of `make test`, in order (also listed in the README).
define LINT
$(BIN)/ruff check .
$(BIN)/ruff format --check .
$(BIN)/mypy .
endef

.PHONY: venv run test test-busy test-faults lint fmt clean histories histories-time-skipping test-exit-codes bench bench-quick screenshots status-screenshots

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)

# The embedded default: Temporal dev server + sandbox + worker (+ a demo batch on a fresh .data).
run: venv
	$(BIN)/python -m devstack

test: venv
	$(LINT)
	$(BIN)/python -m pytest

# `make test` while two CPU-bound processes keep both cores of a 2-core machine busy, as on a
# laptop doing other things: no verdict may depend on the machine keeping up. RUNS=3 repeats it;
# each run's result and wall time are printed at the end.
RUNS ?= 1
test-busy: venv
	$(BIN)/python -m tools.cpu_load --burners 2 --runs $(RUNS) -- $(MAKE) test

# The fault suite (tests/faults, docs/reliability.md): real processes killed, restarted and
# faulted under a batch of orders, then `starter.py audit`; prints orders run / completed / lost /
# duplicated per fault and writes them to .data/fault-results.json.
test-faults: venv
	$(BIN)/python -m pytest tests/faults -m faults

# Re-record the histories replayed by tests/test_replay.py from the end-to-end scenarios. Only on
# purpose: after a change meant to alter the saga's commands (deployed with workflow.patched).
histories: venv
	rm -f tests/histories/*.json
	UPGRADE_RECORD_HISTORIES=1 $(BIN)/python -m pytest tests/e2e -q

# The same for the branch-heavy paths at time scale 1 (tests/workflows/test_saga_timers.py, in the
# time-skipping test server), written to tests/histories/clock_free/. Committed histories are
# re-recorded only on purpose: they are the proof that a restructuring leaves the commands alone;
# tests/histories/time_skipping/ (the code before the clock-free decisions) is never re-recorded.
histories-time-skipping: venv
	UPGRADE_RECORD_HISTORIES=1 UPGRADE_RECORD_HISTORIES_TO=clock_free $(BIN)/python -m pytest tests/workflows/test_saga_timers.py -q

# 200 real starter.py runs against a dev server, every exit status checked (about 75 s).
test-exit-codes: venv
	UPGRADE_EXIT_CODE_LOOP=1 $(BIN)/python -m pytest tests/security/test_exit_codes.py -q -s

# The benchmark (docs/benchmarks.md, docs/benchmarks.json): over an hour on 2 cores, best on a quiet
# machine; bench-quick (~2-3 min) checks the harness and writes the same files from a small run.
# Then the ETA calibration (`python -m bench eta`, ~10 min), merged into the same two files.
bench: venv
	$(BIN)/python -m bench
	$(BIN)/python -m bench eta

bench-quick: venv
	$(BIN)/python -m bench --quick

# PNGs of the Temporal Web UI as an operator sees it, under docs/screenshots/: the whole stack on
# free ports with the demo batch, photographed in headless Chromium (Debian's `chromium`, installed
# with apt-get when /usr/bin/chromium is missing, which needs root) driven by Playwright.
SHOTS_STAMP := $(VENV)/.screenshots-installed

$(SHOTS_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -e '.[dev,screenshots]'
	touch $(SHOTS_STAMP)

screenshots: $(SHOTS_STAMP)
	$(BIN)/python -m tools.screenshots

# The customer's status page at a phone's size (in progress, late with a ticket, active), the same way.
status-screenshots: $(SHOTS_STAMP)
	$(BIN)/python -m tools.status_shots

lint: venv
	$(LINT)

fmt: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf .data
