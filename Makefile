# smoothseg — two commands do everything: `make demo` (the main job) and `make test` (the tests).
# Both set themselves up through `make install`, which is idempotent and quick when done already.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch is pinned here, for this machine's local CPU wheel; pyproject keeps a range for users elsewhere.
TORCH_PIN ?= torch==2.13.0
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-output
SHARED ?= ../shared

.PHONY: install browser test demo lint format clean bench bench-real default-model

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet "$(TORCH_PIN)"
	$(PIP) install --quiet -e ".[dev,web]" "$(TORCH_PIN)"
	$(MAKE) --no-print-directory browser
	touch $(STAMP)

# Headless Chromium for the viewer's browser test (Debian package; needs root and apt-get).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: chromium is missing and cannot be installed here (needs root + apt-get);" \
	         "the browser test (tests/test_web_e2e.py) will fail until it is installed"; \
	  fi; }

test: install
	$(PY) -m pytest -q

demo: install
	SMOOTHSEG_SHARED=$(SHARED) DEMO_OUT=$(DEMO_OUT) bash scripts/demo.sh

lint: install
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks
	$(PY) -m mypy

format: install
	$(PY) -m ruff format src tests benchmarks
	$(PY) -m ruff check --fix src tests benchmarks

bench: install
	$(PY) benchmarks/run_all.py $(BENCH)

# Real-scan benchmark: the shipped model (or MODEL=dir, VS=dir) on the real scans in ../shared/data;
# TTA=1 also runs each model with flip test-time augmentation, side by side.
bench-real: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/real_ct.py $(if $(MODEL),--model $(MODEL)) $(if $(VS),--vs $(VS)) $(if $(TTA),--tta)

clean:
	rm -rf $(VENV) $(DEMO_OUT) build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info

# Rebuild the default model in src/smoothseg/default_model from the phantom generator with the
# synthetic recipe (scripts/train_default_model.sh; time and data use land in its provenance.json).
# Tiny check: make default-model CASES=4 EPOCHS_LIVER=1 EPOCHS_TUMOR=1 SYNTHETIC=1 SYNTHETIC_TUMOR=1 OUT=/tmp/dm
default-model: install
	bash scripts/train_default_model.sh
