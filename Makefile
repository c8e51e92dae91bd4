# Jinyu — two set-up commands: `make demo` and `make test`. Both bootstrap uv and the locked environment.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
# Always .tools/bin/uv (a link to a uv already on PATH, else installed there), so the README's
# `.tools/bin/uv run jinyu ...` works as written on every machine.
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --frozen
PORT ?= 8000
DATA_DIR ?= ./var

.PHONY: bootstrap demo test test-fast test-browser browser-deps lint format bench docs clean

bootstrap: .venv/.synced node_modules/.package-lock.json

$(TOOLS)/bin/uv:
	@if command -v uv >/dev/null 2>&1; then \
	  mkdir -p $(TOOLS)/bin && ln -sf "$$(command -v uv)" $@; \
	else \
	  echo "uv not found: installing it into $(TOOLS)/ (from PyPI) / 安装 uv"; \
	  $(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv; \
	fi

# Bytecode compiled at install time: where PYTHONDONTWRITEBYTECODE is set (as on the machines this is tested
# on) nothing would ever be cached, and every process would compile pandas, DuckDB's and the app's modules again
# (importing the app: ~7 s -> ~4 s on a loaded 2-core machine). Python still checks each file's time, so an
# edited module is compiled afresh in memory, never run stale.
.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --group dev --compile-bytecode
	$(UV) run --frozen python -m compileall -q src >/dev/null
	@touch $@

# The console's charting library (Apache ECharts) from the npm registry, exactly as package-lock.json pins it;
# the app serves its file itself (nothing is fetched at run time).
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is required for the console's charts / 需要 npm（Node.js）" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: bootstrap
	$(RUN) jinyu demo --data-dir $(DATA_DIR) --port $(PORT)

test: bootstrap
	$(RUN) python -m tests.run

test-fast: bootstrap
	$(RUN) pytest -m "not spark and not browser" -n 2 -q

# The console's browser tests drive Debian's Chromium (not a browser build downloaded by Playwright), with a
# Chinese font so that screenshots show the pages' text.
browser-deps:
	@{ command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/truetype/wqy ]; } || { \
	  echo "installing Chromium and a CJK font from Debian / 安装 Chromium 与中文字体"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; }
	@chromium --version 2>/dev/null || { echo "Chromium is missing / 未安装 Chromium" >&2; exit 1; }

test-browser: bootstrap browser-deps
	$(RUN) pytest -m browser -q -p no:cacheprovider

lint: bootstrap
	$(RUN) ruff check src tests benchmarks
	$(RUN) ruff format --check src tests benchmarks
	$(RUN) mypy
	$(RUN) lint-imports

format: bootstrap
	$(RUN) ruff format src tests benchmarks
	$(RUN) ruff check --fix src tests benchmarks

bench: bootstrap
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(RUN) python $$f || exit 1; done

docs: bootstrap
	$(RUN) jinyu datasets docs --out docs/data-formats.md

clean:
	rm -rf .venv node_modules $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
