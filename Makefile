# Mediamon: `make demo` shows it working, `make test` checks it. Both create .venv if needed.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
SITE   ?= site
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck docs unit schemas deploy-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/mediamon demo

lint: install
	$(BIN)/ruff check pipeline tests bench scripts docs
	$(BIN)/ruff format --check pipeline tests bench scripts docs

typecheck: install
	$(BIN)/mypy

# The documentation site (mkdocs.yml, docs/); any warning, such as a broken link, fails it.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(SITE)

# The unit tests on both cores, the integration tests (real broker and workers; each pytest
# process has a broker of its own) on both cores, then those marked `alone` one at a time: the
# fault tests and the others that kill, stop or restart a worker mid-stream (under a loaded
# machine a restarted worker has been seen to stall; see docs/operations.md, Known limits).
test: lint typecheck docs
	$(BIN)/pytest -q -m "not integration" -n 2
	$(BIN)/pytest -q -m "integration and not alone" -n 2
	$(BIN)/pytest -q -m "integration and alone"

schemas: install
	$(BIN)/mediamon schemas schemas

# The deployment files (deploy/, docker-compose.yml, Dockerfile) against promtool, a real
# Prometheus and docker-compose; they skip when those are missing (.ci/run installs them).
deploy-test: install
	$(BIN)/pytest -q tests/deploy

# Throughput, latency and memory next to bare spaCy and a naive Faust agent (about 10 minutes;
# writes bench/results.json). BENCH_DATA is any directory of articles; BENCH_ARGS for instance
# "--articles 200 --runs one,two", or "--profile DIR" with py-spy installed ('.[bench]').
BENCH_DATA ?= ../shared/data/bbc_news
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/bench_pipeline.py $(BENCH_DATA) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(SITE) .mediamon-data .mypy_cache .ruff_cache .pytest_cache .hypothesis
