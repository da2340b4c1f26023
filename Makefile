# styletrace: `make demo` and `make test` are all a newcomer needs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DATA ?= benchmarks/.cache

.PHONY: install demo test lint typecheck unit bench bench-accuracy bench-speed calibrate dev-data clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/styletrace demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint Dockerfile

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(PY) -m pytest -q

test: lint typecheck unit

dev-data: install
	$(PY) -m benchmarks.openclipart --cache $(DATA)

calibrate: install
	$(PY) -m benchmarks.calibrate --cache $(DATA)

bench-accuracy: install
	$(PY) -m benchmarks.accuracy --cache $(DATA)

bench-speed: install
	$(PY) -m benchmarks.speed --cache $(DATA)

bench: bench-accuracy bench-speed

clean:
	rm -rf $(VENV) data
