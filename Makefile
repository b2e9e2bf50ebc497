# make lab  : set up .venv (first run only), then open JupyterLab on notebooks/
# make test : the same set-up, then every test, including running each notebook
VENV := .venv
PY := $(VENV)/bin/python
# SciFact is read from here when the folder exists (our machines and CI); else it is downloaded.
SHARED_DATA := $(abspath ../shared/data)
export MRL_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)/scifact),$(SHARED_DATA))
export MRL_CACHE_DIR ?= $(abspath .cache)

.PHONY: lab test lock clean

$(VENV)/installed: pyproject.toml requirements-lock.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements-lock.txt -e ".[lab,test,db]"
	touch $@

lab: $(VENV)/installed
	$(VENV)/bin/jupyter lab notebooks/

test: $(VENV)/installed
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest

# Re-pin requirements-lock.txt from the current .venv (after changing dependencies in pyproject.toml).
lock: $(VENV)/installed
	{ echo "# Exact versions for make lab / make test. Regenerate with: make lock"; \
	  $(VENV)/bin/pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements-lock.txt

clean:
	rm -rf $(VENV) .cache
