# Two commands on a fresh machine: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BASE_DOMAIN ?= localhost
BIND ?= 127.0.0.1:8000

.PHONY: install system-packages run test lint format bench migrate demo clean-db lock audit prod-smoke

# Debian packages: WeasyPrint's harfbuzz subsetter, Chromium for browser tests, LibreOffice
# (headless) for the parity corpus.
system-packages:
	@bash .ci/system-packages

# Reproducible: every package at the version and hash requirements.lock names (make lock
# regenerates it from pyproject.toml), then the project itself without resolving anything.
$(STAMP): pyproject.toml requirements.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	# the locked pip first (hash-checked): the pip a fresh venv brings (23.x) lets a package's
	# extras (weasyprint's fonttools[woff]) escape the pins as soon as a newer release exists
	awk '/^pip==/{f=1} f&&/^ *#/{exit} f' requirements.lock > $(VENV)/pip.lock
	$(PY) -m pip install -q --disable-pip-version-check --require-hashes -r $(VENV)/pip.lock
	$(PY) -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

lock: install
	$(VENV)/bin/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

# known vulnerabilities in the locked packages fail; an unreachable service only warns
audit: install
	$(PY) -m ops.audit

install: system-packages $(STAMP)

migrate: install
	$(PY) manage.py migrate_schemas -v0
	$(PY) manage.py platforms_sync --base-domain $(BASE_DOMAIN)

demo: migrate
	$(PY) manage.py demo_data
	$(PY) manage.py demo_forms
	$(PY) manage.py demo_dossiers
	$(PY) manage.py demo_content

run: demo
	$(PY) manage.py collectstatic --noinput -v0
	HARMONIA_BASE_DOMAIN=$(BASE_DOMAIN) $(PY) manage.py serve --bind $(BIND)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m ops.audit
	DJANGO_SETTINGS_MODULE=harmonia.settings.test $(PY) manage.py makemigrations --check --dry-run -v1
	$(PY) -m pytest -q $(PYTEST_ARGS)

# the production topology on this machine: nginx (TLS, wildcard), two gunicorn nodes, two
# workers, PostgreSQL at 127.0.0.1:5432; a declaring journey survives a node and a worker killed
prod-smoke: install
	$(PY) -m ops.prod_smoke

bench: install
	@for b in bench/bench_*.py; do $(PY) $$b || exit 1; done
