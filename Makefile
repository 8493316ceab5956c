# `make run` and `make test` work from a bare clone: they build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
DEMO_PASSWORD ?= maraude-demo-2026

.PHONY: run test lint format db seed clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

instance:
	mkdir -p instance

db: $(STAMP) instance
	$(FLASK) db upgrade

instance/.demo-seeded: | db
	$(FLASK) outreach seed-demo --password "$(DEMO_PASSWORD)"
	touch instance/.demo-seeded

run: db instance/.demo-seeded
	@echo ""
	@echo "Demo logins (password: $(DEMO_PASSWORD)):"
	@echo "  worker@demo.test      patrol worker, association 'demo'"
	@echo "  supervisor@demo.test  coordinator, association 'demo'"
	@echo "  funder@demo.test      funder (aggregates only)"
	@echo "  admin@demo.test       platform admin"
	@echo "  worker@other.test / supervisor@other.test  second association 'other'"
	@echo ""
	$(FLASK) run --host 127.0.0.1 --port 5000

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache test-artifacts
