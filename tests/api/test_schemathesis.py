"""S1: schema-generated requests over every operation of /api/openapi.json with a bound veteran's token.

Pass criterion: 0 responses >= 500 and 0 response-schema violations. Slow (~30-60 s): SCHEMATHESIS_EXAMPLES
examples per operation (200 in CI, as quality.md asks; 25 by default locally).
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.helpers import bound_client
from tests.factories import create_veteran

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


@pytest.fixture
def api_schema(api_app, monkeypatch):
    # The generated traffic would trip the per-IP login/bind limits long before it ends; limits have their own tests.
    for key in ("API_LOGIN_RATE_LIMIT", "API_BIND_RATE_LIMIT", "API_EVENTS_RATE_LIMIT"):
        monkeypatch.setitem(api_app.config, key, "100000 per minute")
    return schemathesis.openapi.from_wsgi("/openapi.json", api_app)


@pytest.fixture
def veteran_token(api_app, fake_wechat, world):
    return bound_client(api_app, fake_wechat, create_veteran(station=world.x1)).token


def test_api_conforms_to_its_schema(api_schema, veteran_token):
    """Every operation, EXAMPLES generated cases each (schemathesis' pytest plugin predates pytest 9, so this drives
    its strategies with Hypothesis directly)."""
    headers = {"Authorization": f"Bearer {veteran_token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    operations.sort(key=lambda op: op.path == "/v1/auth/logout")  # logout revokes the token: run it last
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        check()
    print(f"schemathesis: {len(operations)} operations x up to {EXAMPLES} examples")
