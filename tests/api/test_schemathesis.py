"""S1: schema-generated requests over every operation of /api/openapi.json with a bound veteran's token.

Each operation is driven in positive mode (data that fits the schema) and negative mode (data that violates it), and
every generated case is also sent as OPTIONS (issue #10). Pass criterion: 0 responses >= 500, 0 response-schema
violations, and OPTIONS answered 204 with `Allow` (or 405). Slow (~30-90 s): SCHEMATHESIS_EXAMPLES examples per
operation and mode (200 in CI, as quality.md asks; 25 by default locally).

Issue 21 (the suite's run time): the operations are dealt into PARTS tests, each on a veteran of its own, so parallel
workers share them (tests/parallel.py SPLIT); a failing case is reported as found, without Hypothesis' shrinking.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.helpers import bound_client
from tests.factories import create_veteran

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
PARTS = 4
PHASES = tuple(phase for phase in Phase if phase not in (Phase.shrink, Phase.explain))


@pytest.fixture
def api_schema(api_app, monkeypatch):
    # The generated traffic would trip the per-IP login/bind limits long before it ends; limits have their own tests.
    for key in ("API_LOGIN_RATE_LIMIT", "API_BIND_RATE_LIMIT", "API_EVENTS_RATE_LIMIT"):
        monkeypatch.setitem(api_app.config, key, "100000 per minute")
    return schemathesis.openapi.from_wsgi("/openapi.json", api_app)


@pytest.fixture
def veteran_token(api_app, fake_wechat, world):
    return bound_client(api_app, fake_wechat, create_veteran(station=world.x1)).token


def _check_options(case, headers):
    """The same generated request as OPTIONS: answered before authentication, never a server error."""
    case.method = "OPTIONS"
    response = case.call(headers=headers)
    assert response.status_code in (204, 404, 405), (case.formatted_path, response.status_code)
    if response.status_code != 404:  # a generated id outside the id converter's range is not a route
        assert response.headers.get("allow"), case.formatted_path


def _run(operation, mode, headers):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None, phases=PHASES
    )
    def check(case):
        case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])
        if mode is GenerationMode.POSITIVE:
            _check_options(case, headers)

    try:
        check()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # an operation without parameters or body has nothing to violate


@pytest.mark.parametrize("part", range(PARTS))
def test_api_conforms_to_its_schema(api_schema, veteran_token, part):
    """Every operation (each in exactly one part), EXAMPLES generated cases each per mode (schemathesis' pytest plugin
    predates pytest 9, so this drives its strategies with Hypothesis directly)."""
    headers = {"Authorization": f"Bearer {veteran_token}"}
    operations = sorted((result.ok() for result in api_schema.get_all_operations()), key=lambda op: op.label)
    assert len(operations) >= 14
    operations = operations[part::PARTS]
    operations.sort(key=lambda op: op.path == "/v1/auth/logout")  # logout revokes the token: run it last
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, headers)
    print(f"schemathesis part {part}: {len(operations)} operations x 2 modes x up to {EXAMPLES} examples, + OPTIONS")
