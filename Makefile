# Two commands: `make run` (embedded demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test lint install clean-db bench

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Development is chosen explicitly: gunicorn (wsgi.py) and the Celery worker refuse to start without APP_ENV.
run: export APP_ENV ?= development
run: $(STAMP)
	$(BIN)/flask --app backend db upgrade
	$(BIN)/flask --app backend demo-load
	$(BIN)/flask --app backend serve

# In parallel (pytest-xdist): one worker per core, each test file whole on one worker (but the long files of
# tests/parallel.py SPLIT, handed out test by test), each worker on a database and a Redis db of its own
# (tests/conftest.py). `make test PYTEST_ARGS=-n0` runs serially (the last -n wins).
XDIST_ARGS ?= -n auto --dist loadgroup
test: $(STAMP)
	$(BIN)/python -m pytest $(XDIST_ARGS) $(PYTEST_ARGS)

# bench slice (issue 12): every ratio of issue 12 against a database filled by bench/seed.py (README "Benchmarks").
BENCH_DATABASE_URL ?= postgresql+psycopg://veterans_app@127.0.0.1:5432/veterans_bench
bench: $(STAMP)
	APP_ENV=development $(BIN)/python bench/run.py --database-url $(BENCH_DATABASE_URL) $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean-db:
	rm -f instance/veterans.db instance/demo-logins.txt instance/audit-checkpoints.log
