"""The error body, the request id, and redaction of credentials from logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.logs import JsonFormatter, redact


def test_unknown_route_is_404_with_code_and_reason(api_client: TestClient) -> None:
    resp = api_client.get("/v1/no-such-thing")
    assert resp.status_code == 404
    assert resp.json() == {"code": "not_found", "reason": "Not Found"}


def test_every_response_carries_a_request_id_and_a_sane_given_one_is_kept(
    api_client: TestClient,
) -> None:
    generated = api_client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    kept = api_client.get("/healthz", headers={"X-Request-ID": "abc-12345-def"})
    assert kept.headers["x-request-id"] == "abc-12345-def"
    hostile = api_client.get("/healthz", headers={"X-Request-ID": 'x" injected=1'})
    assert hostile.headers["x-request-id"] != 'x" injected=1'


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abc.def-ghi",
        "GET /v1/providers/whoop/callback?code=SECRETCODE&state=SECRETSTATE",
        '{"access_token": "SECRETTOKEN", "refresh_token": "SECRETREFRESH"}',
        "client_secret=SECRETCLIENT&grant_type=authorization_code",
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl here",
        "redis://:hunter2pass@localhost:6379/0",
        "password='SECRETPASS'",
    ],
)
def test_redaction_removes_credentials(text: str) -> None:
    out = redact(text)
    for secret in ("abc.def-ghi", "SECRET", "eyJzdWIi", "hunter2pass"):
        assert secret not in out


def test_redaction_keeps_ordinary_words() -> None:
    assert redact("status_code=200 for route /v1/series") == "status_code=200 for route /v1/series"


def test_log_records_are_json_with_the_request_id_and_redacted(
    api_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="api.access"):
        api_client.get("/healthz?code=LEAKYCODE", headers={"X-Request-ID": "req-0123456789"})
    records = [r for r in caplog.records if r.name == "api.access"]
    assert records
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["request_id"] == "req-0123456789"
    assert line["route"] == "/healthz" and line["status"] == 200
    assert "LEAKYCODE" not in caplog.text


def test_cors_allows_only_the_configured_origins(settings: Any, api_settings_factory: Any) -> None:
    own = settings.model_copy(update={"cors_origins": ["https://app.example.org"]})
    app = create_app(own, api_settings=api_settings_factory())
    with TestClient(app) as client:
        ok = client.options(
            "/v1/me",
            headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET"},
        )
        other = client.options(
            "/v1/me",
            headers={"Origin": "https://evil.example.org", "Access-Control-Request-Method": "GET"},
        )
    assert ok.headers["access-control-allow-origin"] == "https://app.example.org"
    assert "access-control-allow-origin" not in other.headers
