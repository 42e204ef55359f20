"""Property-based client of the OpenAPI document (schemathesis): for every operation, generated
requests never get a 5xx, and every response matches the status codes, content types and
schemas that the document declares."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
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

from api.app import create_app
from api.security import TokenIssuer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25


@pytest.fixture(scope="module")
def contract_app(
    settings: Any, api_settings_factory: Callable[..., Any], registry: Any
) -> Iterator[Any]:
    own = settings.model_copy(update={"redis_prefix": settings.redis_prefix + "contract:"})
    yield create_app(own, api_settings=api_settings_factory(), registry=registry)
    shutdown_lifespans()  # schemathesis runs the app's lifespan itself


@pytest.fixture(scope="module")
def contract_user(engine: Engine, settings: Any, seed: Any) -> dict[str, str]:
    """A user made in the database (the app's lifespan belongs to schemathesis) with data."""
    user_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO users (id, email) VALUES (:id, :email)"),
            {"id": user_id, "email": f"contract-{user_id.hex[:8]}@example.org"},
        )
    seed(str(user_id), days=2)
    issuer = TokenIssuer(
        settings.jwt_signing_key.get_secret_value(),
        settings.jwt_issuer,
        settings.jwt_audience,
        3600,
    )
    return {"Authorization": f"Bearer {issuer.issue(user_id)}"}


def test_every_operation_answers_without_5xx_and_as_its_schema_declares(
    contract_app: Any, contract_user: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", contract_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last: they remove the data the other operations read.
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=contract_user, checks=CHECKS)

        check()
