# Groundswell. A newcomer needs two targets: `make demo` and `make test`; each sets up what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.9
VENV := .venv
UV := .tools/bin/uv
GS := $(VENV)/bin/groundswell
MVN := mvn -q -B -Dmaven.repo.local=$(CURDIR)/.m2

.PHONY: help setup demo test bench clean tools airflow airflow-down

AIRFLOW_HOME ?= $(CURDIR)/.airflow
AIRFLOW := source conf/airflow/airflow.env && airflow
export AIRFLOW_HOME
export GROUNDSWELL_ROOT := $(CURDIR)
# A pool per source system: a tenant's rate limit holds however many extract tasks run at once.
SYSTEMS := shopify quickbooks netsuite odoo xero businesscentral csv x12

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'

setup: $(VENV)/.synced .jars/.fetched .dist/.fetched ## venv from uv.lock, Spark jars, server distributions (idempotent)

demo: setup ## start the local servers, generate the sandbox economy, run the pipeline on the embedded defaults, summarize it (chart in .reports/)
	$(GS) services up
	$(GS) sandbox generate
	$(GS) sandbox truth
	$(GS) run
	$(GS) summary

test: setup ## the full test suite (starts and stops its own servers)
	$(VENV)/bin/pytest

bench: setup ## benchmarks; results under tests/benchmarks/results/
	$(VENV)/bin/python -m tests.benchmarks

airflow: setup ## Airflow 3 on SQLite under .airflow/ (UI and API on http://127.0.0.1:8080): migrate, pools, start api-server, scheduler, dag-processor
	mkdir -p $(AIRFLOW_HOME)
	$(AIRFLOW) db migrate
	for system in $(SYSTEMS); do $(AIRFLOW) pools set groundswell_$$system 4 "extract tasks of $$system" >/dev/null; done
	for part in api-server scheduler dag-processor; do \
	  [ -f $(AIRFLOW_HOME)/$$part.pid ] && kill -0 $$(cat $(AIRFLOW_HOME)/$$part.pid) 2>/dev/null && continue; \
	  (source conf/airflow/airflow.env; setsid airflow $$part > $(AIRFLOW_HOME)/$$part.log 2>&1 < /dev/null & echo $$! > $(AIRFLOW_HOME)/$$part.pid); \
	done
	for i in $$(seq 60); do curl -sf http://127.0.0.1:$${AIRFLOW_PORT:-8080}/api/v2/monitor/health >/dev/null && break; sleep 1; done
	@echo "Airflow UI: http://127.0.0.1:$${AIRFLOW_PORT:-8080}  (DAGs groundswell_daily, groundswell_replay; logs in $(AIRFLOW_HOME))"

airflow-down: ## stop the Airflow processes `make airflow` started
	-for part in api-server scheduler dag-processor; do \
	  [ -f $(AIRFLOW_HOME)/$$part.pid ] && kill -- -$$(cat $(AIRFLOW_HOME)/$$part.pid) 2>/dev/null; rm -f $(AIRFLOW_HOME)/$$part.pid; \
	done

clean: ## stop our local servers and delete local data (warehouse, server state)
	-[ -x $(GS) ] && $(GS) services down
	-$(MAKE) airflow-down
	rm -rf .warehouse .services .test-services .sandbox .airflow .reports

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
