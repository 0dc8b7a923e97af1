# Two commands for a newcomer: `make demo` and `make test`. Each creates .venv itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hocba-installed
# The suite starts hundreds of `hocba` processes: let Python keep their bytecode
# (__pycache__, git-ignored) instead of recompiling every module in each process.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test test-fast bench catalog clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hocba demo --out demo-out

test: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup

# The fast suite (no end-to-end tests marked slow): under a minute on 2 cores.
test-fast: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -m "not slow"

# Recompile the translation catalog (ground/locale/*/LC_MESSAGES/hocba.mo) after editing a .po.
catalog: $(STAMP)
	$(BIN)/python tools/catalog.py compile

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) demo-out test-artifacts bench/out
