# The two commands: `make up` starts the whole suite, `make test` tests it.
# Both prepare the machine first (scripts/bootstrap.sh, idempotent).
SHELL := /bin/bash
VENV := .venv
PYTEST_ARGS ?= -ra --junitxml=var/test-results.xml
BENCH_ARGS ?=
# ruff's own defaults change between releases; these are the checks we keep.
RUFF_SELECT ?= E,F,W,B

.PHONY: up test bench lint clean bootstrap servers-start servers-stop servers-status
.PHONY: cluster-up cluster-down cluster-status

bootstrap:
	scripts/bootstrap.sh

up: bootstrap
	CRM_DEV_LOGIN=$${CRM_DEV_LOGIN:-1} $(VENV)/bin/crm up

# Servers are started only if nothing answers on their ports and MONGO_URL /
# AMQP_URL are unset, and only those started here are stopped afterwards.
# CRM_FORBID_SKIPS=1 makes a skipped test (or no test at all) fail the run.
test:
	scripts/bootstrap.sh --with-browser
	@mkdir -p var
	CRM_FORBID_SKIPS=1 scripts/with-servers.sh $(VENV)/bin/pytest tests $(PYTEST_ARGS)

bench: bootstrap
	scripts/with-servers.sh $(VENV)/bin/python -m bench $(BENCH_ARGS)

# Every fault of issue 13 against the suite on a database and broker of its own, ending
# in a table and "N of N scenarios held" (bench/reliability.py; README, Reliability).
# RELIABILITY_ARGS="--only 'poison message' --size 500" runs less, or more.
.PHONY: reliability
reliability: bootstrap
	$(VENV)/bin/python -m bench.reliability $(RELIABILITY_ARGS)

# Ten minutes of mixed ingest, previews and campaigns at half the measured maximum, with
# each process's memory at start and end (bench/soak.py; README, Reliability). Not in make test.
.PHONY: soak
soak: bootstrap
	$(VENV)/bin/python -m bench.soak $(SOAK_ARGS)

lint:
	$(VENV)/bin/ruff check --select $(RUFF_SELECT) .

servers-start:
	scripts/servers.sh start

servers-stop:
	scripts/servers.sh stop

servers-status:
	scripts/servers.sh status

# A three-node RabbitMQ cluster on this machine (5681-5683, data in var/cluster),
# beside the default broker on 5672: docs/cluster.md. cluster-down keeps its data.
cluster-up: bootstrap
	scripts/cluster.sh up

cluster-down:
	scripts/cluster.sh down

cluster-status:
	scripts/cluster.sh status

# Stops the servers scripts/servers.sh started, then wipes their data and logs.
clean:
	-scripts/servers.sh stop
	-scripts/cluster.sh down
	rm -rf var
