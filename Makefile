# Groundswell. A newcomer needs two targets: `make demo` and `make test`; each sets up what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.9
VENV := .venv
UV := .tools/bin/uv
GS := $(VENV)/bin/groundswell
MVN := mvn -q -B -Dmaven.repo.local=$(CURDIR)/.m2

.PHONY: help setup demo test bench clean tools

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'

setup: $(VENV)/.synced .jars/.fetched .dist/.fetched ## venv from uv.lock, Spark jars, server distributions (idempotent)

demo: setup ## start the local servers, generate the sandbox economy, run the pipeline on the embedded defaults
	$(GS) services up
	$(GS) sandbox generate
	$(GS) sandbox truth
	$(GS) run

test: setup ## the full test suite (starts and stops its own servers)
	$(VENV)/bin/pytest

bench: setup ## benchmarks; results under tests/benchmarks/results/
	$(VENV)/bin/python -m tests.benchmarks

clean: ## stop our local servers and delete local data (warehouse, server state)
	-[ -x $(GS) ] && $(GS) services down
	rm -rf .warehouse .services .test-services .sandbox

# Debian packages the set-up uses, installed only where missing (needs root, as on our CI machines).
tools:
	@for need in mvn:maven unzip:unzip; do \
	  command -v $${need%%:*} >/dev/null || { apt-get update -qq && apt-get install -y -qq $${need##*:}; }; \
	done

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install -q uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | .tools/bin/uv
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked
	touch $@

.jars/.fetched: conf/spark/pom.xml | tools
	rm -rf .jars
	$(MVN) -f conf/spark/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/.jars
	touch $@

.dist/.fetched: conf/services/pom.xml | tools
	rm -rf .dist
	$(MVN) -f conf/services/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/.dist
	cd .dist && for zip in *.zip; do unzip -q "$$zip" && rm "$$zip"; done
	touch $@
