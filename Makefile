# Single entry point for people and CI. The virtual environment is made on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test lint format real-data sample vendor bench clean redis worker

# The server, then the client the tests and the benchmark use: a distribution of its own
# (client/). In that order, since a venv made before the split has `lss` in the server's files.
$(STAMP): pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet -e ./client
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

run: $(STAMP)  ## serve the bundled dataset on 127.0.0.1:5000
	$(PY) api_server.py

redis: $(STAMP)  ## a local redis-server in the foreground: 127.0.0.1:$LSS_REDIS_PORT, data in redis-data/
	$(PY) -m app.celery_engine.redis_server

worker: $(STAMP)  ## one Celery worker in the foreground, on LSS_BROKER_URL (default: the local redis)
	$(PY) -m app.celery_engine.worker

test: lint $(BENCH_STAMP)  ## lint, then the whole test suite (the benchmark's own tests need its extra)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

real-data: $(STAMP)  ## replace the bundled sample with the real CDC extract
	$(PY) scripts/fetch_real_data.py

sample: $(STAMP)  ## regenerate the bundled synthetic sample
	$(PY) scripts/generate_sample.py

vendor: $(STAMP)  ## re-fetch the pages' third-party files from the npm registry
	$(PY) scripts/vendor_assets.py

bench: $(BENCH_STAMP)  ## BENCHMARKS.md: the service beside its raw WSGI limit (research: python -m bench.lab)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache results/*.json results/.answers test-screenshots
