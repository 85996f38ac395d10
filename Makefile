# libedge: `make demo` runs the whole system on embedded defaults; `make test` lints, then tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := mosquitto mosquitto-clients socat gcc libpcsclite-dev pcscd vsmartcard-vpcd \
	libgl1 libegl1 libgl1-mesa-dri libmtdev1 fonts-wqy-microhei \
	fonts-materialdesignicons-webfont espeak-ng alsa-utils openssl chromium \
	fonts-dejavu-core poppler-utils
STAMP := $(VENV)/.installed
AXE_VERSION := 4.14.1
AXE := build/axe-core-$(AXE_VERSION)/axe.min.js

.PHONY: demo test bench mutate lint sysdeps venv postgres clean

sysdeps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	  | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,hardware,all]'
	touch $(STAMP)

venv: sysdeps $(STAMP)

demo: venv
	$(BIN)/libedge demo

test: lint $(AXE) postgres
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# Central's store tests run on SQLite and on PostgreSQL: the server here, or Debian's.
postgres:
	@deploy/test-postgres.sh

bench: venv
	$(BIN)/python -m bench.run_all

# Mutation testing of the core modules (tests/README.md); minutes per module, not in CI.
mutate: venv $(VENV)/.mutate
	$(BIN)/python -m tests.mutate

$(VENV)/.mutate: pyproject.toml | $(STAMP)
	$(BIN)/pip install -q -e '.[mutate]'
	touch $@

# axe-core (npm) checks the staff web pages' accessibility in the browser tests; pinned, local.
$(AXE):
	@command -v npm >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends npm; }
	mkdir -p build/axe-core-$(AXE_VERSION)
	cd build && npm pack -q axe-core@$(AXE_VERSION) >/dev/null
	tar -xzf build/axe-core-$(AXE_VERSION).tgz -C build/axe-core-$(AXE_VERSION) --strip-components=1 package/axe.min.js
	rm build/axe-core-$(AXE_VERSION).tgz

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) demo-run build/mutate .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
