"""Property-based client of the secret-URL routes (schemathesis), as the API's contract test
runs every other route: no 5xx, and every answer as the OpenAPI document declares."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, text

from api.config import ApiSettings
from api.security import TokenIssuer
from mirobody_assets.settings import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def contract_app(mcp_settings: Settings, app_factory: Any) -> Iterator[Any]:
    own = mcp_settings.model_copy(update={"redis_prefix": mcp_settings.redis_prefix + "c:"})
    yield app_factory(
        own,
        ApiSettings.from_settings(
            own,
            rate_limit_user_per_minute=0,
            rate_limit_ip_per_minute=0,
            rate_limit_auth_ip_per_minute=0,
        ),
    )
    shutdown_lifespans()


@pytest.fixture(scope="module")
def contract_user(engine: Engine, mcp_settings: Settings) -> dict[str, str]:
    user_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO users (id, email) VALUES (:id, :email)"),
            {"id": user_id, "email": f"contract-{user_id.hex[:8]}@example.org"},
        )
    assert mcp_settings.jwt_signing_key is not None
    issuer = TokenIssuer(
        mcp_settings.jwt_signing_key.get_secret_value(),
        mcp_settings.jwt_issuer,
        mcp_settings.jwt_audience,
        3600,
    )
    return {"Authorization": f"Bearer {issuer.issue(user_id)}"}


def test_secret_url_routes_answer_as_their_schema_declares(
    contract_app: Any, contract_user: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", contract_app)
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = sorted(
        (op for op in operations if op.path.startswith("/v1/mcp")),
        key=lambda op: (op.method.upper() == "DELETE", op.path, op.method),
    )
    assert [(op.method.upper(), op.path) for op in operations] == [
        ("GET", "/v1/mcp/urls"),
        ("POST", "/v1/mcp/urls"),
        ("DELETE", "/v1/mcp/urls/{url_id}"),
    ]
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=contract_user, checks=CHECKS)

        check()
