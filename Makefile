# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app budget_app
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run instance-dir test install install-test translations compile-translations chromium bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when the project's dependencies change.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The foundation's catalogue and one per domain package (budget_app/<domain>/translations).
compile-translations: $(VENV)/.installed
	@for dir in budget_app/translations budget_app/*/translations; do \
	  if ls $$dir/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then $(BIN)/pybabel compile -d $$dir || exit 1; fi; \
	done

install: $(VENV)/.installed compile-translations

# The instance folder holds the secret key, the alert key, the SQLite database and the
# uploads: readable by its owner only, even when it already existed.
INSTANCE ?= instance
instance-dir:
	mkdir -p -m 700 $(INSTANCE)
	chmod 700 $(INSTANCE)

run: install instance-dir
	$(FLASK) db upgrade
	$(FLASK) seed
	$(FLASK) run --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium; Playwright never downloads a browser here.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

install-test: $(VENV)/.installed-test compile-translations chromium

# Two workers (pytest-xdist): CI machines have two cores.
PYTEST_ARGS ?= -n 2
test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

# Extract marked strings and merge them into the English catalogue (French is the source
# language): `make translations` for the foundation, `make translations DOMAIN=claims` for a domain.
KEYWORDS := -k _l -k lazy_gettext -k N_
translations: $(VENV)/.installed
ifeq ($(DOMAIN),)
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) -o budget_app/translations/messages.pot .
	$(BIN)/pybabel update -i budget_app/translations/messages.pot -d budget_app/translations -l en --no-fuzzy-matching
else
	mkdir -p budget_app/$(DOMAIN)/translations templates/$(DOMAIN)
	$(BIN)/pybabel extract -F babel-domain.cfg $(KEYWORDS) -o budget_app/$(DOMAIN)/translations/messages.pot budget_app/$(DOMAIN) templates/$(DOMAIN)
	if [ -f budget_app/$(DOMAIN)/translations/en/LC_MESSAGES/messages.po ]; then \
	  $(BIN)/pybabel update -i budget_app/$(DOMAIN)/translations/messages.pot -d budget_app/$(DOMAIN)/translations -l en --no-fuzzy-matching; \
	else \
	  $(BIN)/pybabel init -i budget_app/$(DOMAIN)/translations/messages.pot -d budget_app/$(DOMAIN)/translations -l en; \
	fi
endif

# bench/bench_pack.py compares the evidence pack with Debian's `zip -0 -r`.
bench: install-test
	@command -v zip >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zip >/dev/null; }
	@for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done
	# The heavier form fuzz: 40 drawn bodies per form and five swept values per field.
	FORM_FUZZ_EXAMPLES=40 $(BIN)/pytest -q -n 0 -p no:cacheprovider tests/security/test_form_fuzz.py

clean:
	rm -rf $(VENV) .pytest_cache
