# policystudy: GNU make, POSIX sh. Windows users: see README.md ("Without make").
#   make study   run the whole study on the bundled corpus, write $(REPORTS)/
#   make test    lint, unit tests, then the notebooks in strict mode

PYTHON ?= python3
VENV ?= .venv
REPORTS ?= reports
SIZE ?= default
EXTRAS ?= test,notebooks,dask,bench,progress,parquet

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv test unit nbtest study notebooks bench lint format clean

help:
	@echo "make study      run the study on the bundled corpus -> $(REPORTS)/index.html"
	@echo "make test       ruff, unit tests, notebooks (nbval, strict)"
	@echo "make notebooks  re-execute notebooks/*.ipynb in place (rewrites their outputs)"
	@echo "make bench      benchmarks/run.py --size $(SIZE)"
	@echo "make lint | format | clean | venv"

venv: $(STAMP)

# Reinstall whenever the dependency list or the pins change.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -c constraints.txt --upgrade pip
	$(BIN)/python -m pip install -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
	@$(MAKE) --no-print-directory nbtest

unit: venv
	$(BIN)/python -m pytest

# Strict nbval run of the committed outputs. MPLBACKEND must be unset: with Agg the
# figure outputs disappear and nbval reports missing outputs.
nbtest: venv
	@set -- notebooks/*.ipynb; \
	if [ -e "$$1" ]; then \
		unset MPLBACKEND; \
		echo "$(BIN)/python -m pytest --nbval --nbval-current-env ... notebooks/"; \
		$(BIN)/python -m pytest --nbval --nbval-current-env \
			--nbval-sanitize-with notebooks/sanitize.cfg notebooks/; \
	else \
		echo "no notebooks/*.ipynb: notebook run skipped"; \
	fi

study: venv
	$(BIN)/policystudy study --out $(REPORTS)

# The only target that rewrites committed notebook outputs.
notebooks: venv
	unset MPLBACKEND; $(BIN)/python -m jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.kernel_name=python3 notebooks/*.ipynb

bench: venv
	$(BIN)/python benchmarks/run.py --size $(SIZE)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Never touches data/ (the bundled corpus).
clean:
	rm -rf $(VENV) build dist $(REPORTS) policystudy/_data policystudy/_notebooks
	find . -path ./data -prune -o -type d \( -name __pycache__ -o -name .pytest_cache \
		-o -name .ruff_cache -o -name .ipynb_checkpoints -o -name '*.egg-info' \) -print \
		| xargs rm -rf
