"""The gateway answers as its own OpenAPI document says: schemathesis with every check
and every phase (examples, coverage, fuzzing, stateful) against /openapi.json, with an
API key, bounded and deterministic (tests/e2e/schemathesis.toml: fixed seed,
deterministic generation, 20 examples per operation; what the spec can only say in
words is in schemathesis_hooks.py). Run by hand against `make up`:

    .venv/bin/crm api-keys create st | tail -n 1   # the key
    PYTHONPATH=. .venv/bin/schemathesis --config-file tests/e2e/schemathesis.toml run \\
        http://127.0.0.1:8000/openapi.json -H "Authorization: Bearer $KEY" --checks all
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.suite import api_session, running_suite

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def conformance_suite():
    # A suite of its own: the thousands of customers, segments and campaigns schemathesis
    # makes would change what other e2e tests count. No rate limit: it sends ~50 calls/s.
    with running_suite("openapi", {"CRM_GATEWAY_RATE_LIMIT": "0"}) as started:
        yield started


@pytest.mark.timeout(900)
def test_every_answer_is_one_the_openapi_document_allows(conformance_suite):
    stack, settings = conformance_suite
    authorization = api_session(stack, settings, "schemathesis").headers["Authorization"]
    command = [str(SCHEMATHESIS), "--config-file", str(HERE / "schemathesis.toml"), "run",
               f"{stack.gateway_url}/openapi.json", "--header", f"Authorization: {authorization}",
               "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--workers", "1",
               "--no-color", "--request-timeout", "30"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=840, check=False)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20000:]
    assert " passed" in report and "Tested: " in report, report[-5000:]
