"""Schemathesis over the server's OpenAPI document (live uvicorn, real hippocampus backend): for every
operation, generated valid and invalid requests never get a 5xx, and every response matches its
documented status codes, content type and schema.

(The ``schemathesis.pytest`` decorators do not run under pytest 9 here, so each operation's
strategy is drawn with hypothesis directly.)
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
# import the OpenAPI loader now: imported lazily from a deep stack, CPython 3.11.7's compile() can
# fail with "AST constructor recursion depth mismatch" (gh-106905)
import schemathesis.specs.openapi.schemas  # noqa: E402,F401
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import live_server  # noqa: E402
from neurorl.server.app import ServerConfig  # noqa: E402

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
EXAMPLES = 3  # per operation and mode: a small run (CI budget); raise it locally for a deeper search


def test_openapi_document_holds_for_generated_requests(tmp_path):
    with live_server(ServerConfig(state_dir=tmp_path, max_models=20)) as url:
        schema = schemathesis.openapi.from_url(url + "/openapi.json")
        ops = [r.ok() for r in schema.get_all_operations()]
        assert len(ops) >= 25
        failures = []
        for op in ops:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                @given(case=op.as_strategy(generation_mode=mode))
                @settings(max_examples=EXAMPLES, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
                def run(case):
                    case.call_and_validate(checks=CHECKS, timeout=300)

                try:
                    run()
                except Unsatisfiable:
                    pass  # nothing to make invalid (an operation without parameters or body)
                except Exception as e:  # keep going: report every failing operation at once
                    failures.append(f"{op.label} [{mode.value}]: {str(e)[:1500]}")
        assert not failures, "\n\n".join(failures)
