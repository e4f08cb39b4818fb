# Two commands on a fresh machine: `make run` and `make test`.
# Needs only Python 3.11+, make and git; everything else comes from the pinned lock file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast lint typecheck check env lock clean-state debian-packages messages \
	messages-init

# Some machines (this workplace's, its CI) set PYTHONDONTWRITEBYTECODE=1. Without cached
# bytecode every Python process recompiles all it imports and pytest re-rewrites its plugins'
# asserts: 8 s per pytest start, more for each CLI and dev-stack process the tests run.
unexport PYTHONDONTWRITEBYTECODE

run: $(STAMP)
	$(BIN)/overdue dev

# Every test, in random order: pytest-randomly prints the seed; repeat an order with
# PYTEST_ARGS=--randomly-seed=N, or keep file order with PYTEST_ARGS="-p no:randomly".
test: $(STAMP) debian-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The inner loop: unit and time-skipping tests, no servers, property tests drawing fewer
# examples (under a minute).
test-fast: $(STAMP)
	OVERDUE_TEST_FAST=1 $(BIN)/python -m pytest -m "not integration" --ignore=tests/integration $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy overdue workflows activities workers api

check: lint typecheck test

env: $(STAMP)

# uv comes from the lock file too; it is bootstrapped once with pip at the pinned version.
$(STAMP): requirements-lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Python 3.11+ is required (found $$($(BIN)/python -V))"; exit 1; }
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check \
	  "uv==$$(sed -n 's/^uv==\([^ ]*\).*/\1/p' requirements-lock.txt)"
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv pip sync --python $(BIN)/python --require-hashes requirements-lock.txt
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv pip install --python $(BIN)/python --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Chromium and CJK fonts for the browser tests, from Debian, when missing.
debian-packages:
	@scripts/debian-packages

# Re-pin after editing pyproject.toml dependencies.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  -o requirements-lock.txt
	$(BIN)/uv pip compile pyproject.toml --constraints requirements-lock.txt --generate-hashes \
	  --python-version 3.11 -o deploy/requirements-runtime.txt

# The console's text (docs/translations.md): extract the English msgids from its Python and
# templates into messages.pot and merge them into every language's .po (new text arrives
# untranslated, changed text fuzzy; tests/api/test_console_catalogues.py fails until a
# translator has done both). The app compiles each .po when it starts: there is no .mo to build.
LOCALES          := api/console/locale
# The borrower's pages (api/selfservice, docs/self-service.md) have their own catalogue.
SELFSERVICE_LOCALES := api/selfservice/locale
MESSAGE_KEYWORDS := -k word:1c,2
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(MESSAGE_KEYWORDS) -c TRANSLATORS: --add-location=file \
	  --sort-output --width=100 --project=overdue-reminders --version=console \
	  -o $(LOCALES)/messages.pot api/console
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --width=100 --ignore-obsolete
	$(BIN)/pybabel extract -F babel.cfg $(MESSAGE_KEYWORDS) -c TRANSLATORS: --add-location=file \
	  --sort-output --width=100 --project=overdue-reminders --version=selfservice \
	  -o $(SELFSERVICE_LOCALES)/messages.pot api/selfservice
	$(BIN)/pybabel update -i $(SELFSERVICE_LOCALES)/messages.pot -d $(SELFSERVICE_LOCALES) \
	  --width=100 --ignore-obsolete

# A new language: `make messages-init LOCALE=ja` writes api/console/locale/ja/LC_MESSAGES/messages.po.
messages-init: $(STAMP)
	@test -n "$(LOCALE)" || { echo "usage: make messages-init LOCALE=ll_CC"; exit 1; }
	$(BIN)/pybabel init -i $(LOCALES)/messages.pot -d $(LOCALES) -l $(LOCALE) --width=100

clean-state:
	rm -rf .state

# Benchmarks, the chaos run and the API fuzz (not part of `make test`): each prints its figures
# and writes bench/results/<name>.json; see docs/benchmarks.md. One: `make bench BENCH=cost`;
# sizes and other flags: `make bench BENCH=throughput BENCH_ARGS="--n 5000"`.
BENCH ?= cost memory sandbox_cost throughput latency chaos fuzz outage
.PHONY: bench
bench: $(STAMP)
	@for name in $(BENCH); do \
	  echo "== bench.$$name"; $(BIN)/python -m bench.$$name $(BENCH_ARGS) || exit 1; \
	done
