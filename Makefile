# mlscope: `make run` serves ./mlruns at http://localhost:5000, `make test` runs every test.
# Both work on a fresh machine: they create the venv, fetch npm packages and (for tests) Debian's chromium.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := frontend/vendor
MLRUNS ?= ./mlruns
PORT ?= 5000

.PHONY: run test lint bench wheel vendor vendor-check clean chromium postgresql

# `make run` needs only the runtime dependencies; the test extras come with `make test`.
$(BIN)/mlscope: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.test-extras: $(BIN)/mlscope pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@


node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser builds of the npm packages at the versions package-lock.json pins, with their licenses.
# They are committed, so `pip install .` and `pip install git+...` serve the full UI without node;
# CI checks that `make vendor` on a clean checkout leaves them unchanged.
vendor: node_modules/.package-lock.json
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/preact $(VENDOR)/htm $(VENDOR)/uplot $(VENDOR)/echarts $(VENDOR)/marked $(VENDOR)/dompurify $(VENDOR)/highlight.js
	cp node_modules/preact/dist/preact.mjs $(VENDOR)/preact/preact.mjs
	cp node_modules/preact/hooks/dist/hooks.mjs $(VENDOR)/preact/hooks.mjs
	cp node_modules/htm/dist/htm.mjs $(VENDOR)/htm/htm.mjs
	cp node_modules/htm/preact/index.mjs $(VENDOR)/htm/preact.mjs
	cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css $(VENDOR)/uplot/
	cp node_modules/echarts/dist/echarts.esm.min.mjs $(VENDOR)/echarts/
	cp node_modules/marked/lib/marked.esm.js $(VENDOR)/marked/
	cp node_modules/dompurify/dist/purify.es.mjs $(VENDOR)/dompurify/
	cp -r node_modules/@highlightjs/cdn-assets/es $(VENDOR)/highlight.js/es
	cp node_modules/@highlightjs/cdn-assets/styles/github.min.css node_modules/@highlightjs/cdn-assets/LICENSE $(VENDOR)/highlight.js/
	for pkg in preact htm uplot echarts marked dompurify; do cp node_modules/$$pkg/LICENSE* $(VENDOR)/$$pkg/; done

# The committed vendor files are exactly what `make vendor` copies (CI runs this on a clean clone).
vendor-check: vendor
	git diff --exit-code -- $(VENDOR)
	@test -z "$$(git status --porcelain -- $(VENDOR))" || { git status --porcelain -- $(VENDOR); echo "frontend/vendor differs from make vendor"; exit 1; }

run: $(BIN)/mlscope
	@if [ ! -d "$(MLRUNS)" ]; then \
		echo "No $(MLRUNS) here: writing a demo tree with 'mlscope demo $(MLRUNS)' so there is something to see."; \
		$(BIN)/mlscope demo "$(MLRUNS)"; \
	fi
	$(BIN)/mlscope ui --backend-store-uri "$(MLRUNS)" --port $(PORT)

# Debian's chromium drives the browser tests (playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 chromium; }

# Debian's PostgreSQL 15 backs the SQL store tests (a throwaway cluster per session, see tests/store/sql/pg_cluster.py).
postgresql:
	@test -x /usr/lib/postgresql/15/bin/initdb || { \
		echo "Installing Debian's PostgreSQL for the SQL store tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 postgresql; }

lint: $(VENV)/.test-extras
	$(BIN)/ruff check backend tests bench
	$(BIN)/mypy

test: $(VENV)/.test-extras chromium postgresql lint
	MLFLOW_ALLOW_FILE_STORE=true $(BIN)/pytest -q

bench: $(VENV)/.test-extras
	$(BIN)/python -m bench.run

wheel: $(BIN)/mlscope
	rm -rf dist && $(BIN)/pip wheel --no-deps --quiet -w dist .
	@ls dist/*.whl

clean:
	rm -rf $(VENV) node_modules dist build backend/*.egg-info
