VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DOMAINS := $(basename $(notdir $(wildcard locales/vi/LC_MESSAGES/*.po)))

.PHONY: run test lint catalogs install clean bench

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --no-warn-script-location -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) catalogs

catalogs: $(STAMP)
	@for d in $(DOMAINS); do \
	  $(VENV)/bin/pybabel compile -D $$d -d locales >/dev/null || exit 1; \
	done

run: install
	$(PY) -m bot.cli serve

test: install
	$(PY) -m ruff check .
	$(PY) -m mypy bot dialogs nlu integrations
	$(PY) -m pytest -q -p no:cacheprovider

bench: install
	$(PY) bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
