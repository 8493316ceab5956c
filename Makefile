# `make run` and `make test` work from a bare clone: they build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
DEMO_PASSWORD ?= maraude-demo-2026
PORT ?= 5000

.PHONY: run test lint format db seed clean translations lock

# Exact versions from the lock files (pip-compile, see README "Dependencies"), then the app
# itself without resolving anything again.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# After a change of dependencies in pyproject.toml: pin them again.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements-dev.lock pyproject.toml

instance:
	mkdir -p instance

# Translations (README, "Languages and translations"). French is the source language: the
# msgids are the French texts. Each catalogue is compiled again whenever its .po changes;
# the .mo are not kept in git.
LANGUAGES := en fr
MO_FILES := $(LANGUAGES:%=translations/%/LC_MESSAGES/messages.mo)
POT := translations/messages.pot

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel compile -d translations -l $*

# Extract every string of the code and the templates, then merge them into each .po;
# translate what comes out empty or "#, fuzzy" in translations/en (tests/test_i18n.py
# fails until then). French takes only plural forms, so no guessed (fuzzy) entries there.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -k lazy_text --add-comments=TRANSLATORS: \
		--no-wrap -o $(POT) .
	$(BIN)/pybabel update -i $(POT) -d translations -l en --no-wrap --ignore-obsolete
	$(BIN)/pybabel update -i $(POT) -d translations -l fr --no-wrap --ignore-obsolete \
		--no-fuzzy-matching

db: $(STAMP) instance
	$(FLASK) db upgrade

instance/.demo-seeded: | db
	$(FLASK) outreach seed-demo --password "$(DEMO_PASSWORD)"
	touch instance/.demo-seeded

run: db instance/.demo-seeded $(MO_FILES)
	@echo ""
	@echo "Demo logins (password: $(DEMO_PASSWORD)):"
	@echo "  worker@demo.test      patrol worker, association 'demo'"
	@echo "  supervisor@demo.test  coordinator, association 'demo'"
	@echo "  funder@demo.test      funder (aggregates only)"
	@echo "  admin@demo.test       platform admin"
	@echo "  worker@other.test / supervisor@other.test  second association 'other'"
	@echo ""
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: $(STAMP) $(MO_FILES)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache test-artifacts $(MO_FILES) $(POT)
