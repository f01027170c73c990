# Two commands matter: `make demo` and `make test`. Everything else is a building block.
# The repository is a uv workspace: Magpie at the root, the Bot API sandbox in packages/tg-sandbox
# (its own distribution; the demo and the tests use it, the product wheel does not contain it).
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
SANDBOX := packages/tg-sandbox
STAMP   := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml $(SANDBOX)/pyproject.toml | cksum | cut -d' ' -f1)
# The sandbox's own suite names its switches after itself; Magpie's settings carry over.
SANDBOX_ENV := TG_SANDBOX_CHROMIUM="$${TG_SANDBOX_CHROMIUM:-$${MAGPIE_CHROMIUM:-}}" \
	TG_SANDBOX_REQUIRE_BROWSER="$${TG_SANDBOX_REQUIRE_BROWSER:-$${MAGPIE_REQUIRE_BROWSER:-}}"

.PHONY: setup demo test unit lint typecheck format bench lock smoke clean

$(STAMP): pyproject.toml $(SANDBOX)/pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock -e . -e $(SANDBOX)
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/magpie demo

test: setup lint typecheck unit

unit: setup
	$(BIN)/pytest $(PYTEST_ARGS)
	cd $(SANDBOX) && $(SANDBOX_ENV) $(CURDIR)/$(BIN)/pytest $(SANDBOX_PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench .ci $(SANDBOX)
	$(BIN)/ruff format --check src tests bench .ci $(SANDBOX)

typecheck: setup
	$(BIN)/mypy
	cd $(SANDBOX) && $(CURDIR)/$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests bench .ci $(SANDBOX)
	$(BIN)/ruff check --fix src tests bench .ci $(SANDBOX)

bench: setup
	$(BIN)/python -m bench.run_all

# One lock for the whole workspace: Magpie, the sandbox and both dev groups. The sandbox itself
# is installed from its folder (editable), so it is left out of the lock.
lock: setup
	$(BIN)/uv pip compile pyproject.toml $(SANDBOX)/pyproject.toml \
		--group pyproject.toml:dev --group $(SANDBOX)/pyproject.toml:dev \
		--no-emit-package tg-sandbox --python-version 3.11 -o requirements.lock

# The product wheel, installed without the lock into a fresh venv, answers through a sandbox.
smoke: setup
	$(BIN)/python .ci/smoke.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache $(SANDBOX)/.mypy_cache \
		$(SANDBOX)/.pytest_cache $(SANDBOX)/.ruff_cache
