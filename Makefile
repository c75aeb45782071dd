# Two commands on a fresh machine: `make demo` and `make test`. Each bootstraps .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.autan-installed

.PHONY: demo test lint typecheck check bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(PY) $(VENV)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# pytest exits 5 when it collects no tests; that is not a failure.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check autan agents tools graphs memory guards tests benchmarks examples scripts
	$(BIN)/ruff format --check autan agents tools graphs memory guards tests benchmarks examples scripts

typecheck: $(STAMP)
	bash scripts/typecheck.sh

check: lint typecheck test

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
