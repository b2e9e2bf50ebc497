# make lab  : set up .venv (first run only), then open JupyterLab on notebooks/
# make test : the same set-up, then every test, including running each notebook
# make test-lowest : the same tests at the lowest versions pyproject.toml allows (requirements-lowest.txt),
#                    in .venv-lowest (set up on the first run only)
VENV := .venv
PY := $(VENV)/bin/python
# SciFact is read from here when the folder exists (our machines and CI); else it is downloaded.
SHARED_DATA := $(abspath ../shared/data)
export MRL_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)/scifact),$(SHARED_DATA))
export MRL_CACHE_DIR ?= $(abspath .cache)

.PHONY: lab test test-lowest lock clean

$(VENV)/installed: pyproject.toml requirements-lock.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements-lock.txt -e ".[lab,test,db]"
	touch $@

lab: $(VENV)/installed
	$(VENV)/bin/jupyter lab notebooks/

test: $(VENV)/installed
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest

# The ranges in pyproject.toml, proven: each direct dependency at its lower bound, transitive ones as pip picks.
# Python 3.11 and torch 2.13.0, the CPU build this machine has (torch's own bound stays lower, for Colab's torch).
# The cache is shared with `make test` on purpose: its keys name the library versions, so neither run may
# read what the other wrote.
VENV_LOWEST := .venv-lowest
PYTHON_LOWEST ?= python3.11

$(VENV_LOWEST)/installed: pyproject.toml requirements-lowest.txt
	rm -rf $(VENV_LOWEST)
	$(PYTHON_LOWEST) -m venv $(VENV_LOWEST)
	$(VENV_LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_LOWEST)/bin/python -m pip install --quiet -c requirements-lowest.txt -e ".[lab,test,db]"
	touch $@

test-lowest: $(VENV_LOWEST)/installed
	HF_HUB_OFFLINE=1 $(VENV_LOWEST)/bin/pytest

# Re-pin requirements-lock.txt from the current .venv (after changing dependencies in pyproject.toml).
lock: $(VENV)/installed
	{ echo "# Exact versions for make lab / make test. Regenerate with: make lock"; \
	  $(VENV)/bin/pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements-lock.txt

clean:
	rm -rf $(VENV) $(VENV_LOWEST) .cache
