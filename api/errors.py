"""Typed API errors and the one JSON shape every error response has: `{code, reason}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.logs import route_template

log = logging.getLogger("api.errors")
# Seconds a client is asked to wait when a backing service (Redis) does not answer.
RETRY_AFTER_S = 5


class FieldError(BaseModel):
    """One invalid input: where it is and what is wrong (the value is never echoed)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error response: a stable machine code and a human reason."""

    code: str
    reason: str
    errors: list[FieldError] | None = None


class ApiError(Exception):
    """An error the caller should see, with its HTTP status and code."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self, reason: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        if code:
            self.code = code
        self.headers = headers or {}


class UnauthorizedError(ApiError):
    status_code = 401
    code = "unauthorized"

    def __init__(
        self, reason: str = "missing or invalid credentials", *, code: str | None = None
    ) -> None:
        super().__init__(reason, code=code, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenError(ApiError):
    status_code = 403
    code = "forbidden"


class NotFoundError(ApiError):
    status_code = 404
    code = "not_found"


class ConflictError(ApiError):
    status_code = 409
    code = "conflict"


class InvalidRequestError(ApiError):
    status_code = 422
    code = "invalid_request"


class TooManyRequestsError(ApiError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after_s: int, scope: str) -> None:
        super().__init__(
            f"too many requests ({scope}); retry in {retry_after_s} s",
            headers={"Retry-After": str(retry_after_s)},
        )


class UnavailableError(ApiError):
    status_code = 503
    code = "unavailable"


class VendorError(ApiError):
    status_code = 502
    code = "vendor_error"


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}

# Declared on every /v1 router so the OpenAPI document tells clients (and schemathesis) the truth.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": code.replace("_", " ")}
    for status, code in {
        401: "unauthorized",
        403: "forbidden",
        404: "not found",
        409: "conflict",
        422: "invalid request",
        429: "rate limited",
    }.items()
}


def _body(code: str, reason: str, errors: list[FieldError] | None = None) -> dict[str, Any]:
    return ErrorBody(code=code, reason=reason, errors=errors).model_dump(exclude_none=True)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    if exc.status_code >= 500:
        log.error("request failed: %s", exc.reason, extra={"code": exc.code})
    return JSONResponse(_body(exc.code, exc.reason), exc.status_code, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    reason = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return JSONResponse(_body(code, reason), exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only location, message and type: the offending input may be a password or a token.
    errors = [
        FieldError(
            loc=[p for p in e.get("loc", ()) if isinstance(p, str | int)],
            msg=str(e.get("msg", "")),
            type=str(e.get("type", "")),
        )
        for e in exc.errors()
    ]
    where = ", ".join(".".join(str(p) for p in e.loc) for e in errors[:5])
    return JSONResponse(_body("invalid_request", f"invalid input: {where}", errors), 422)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL refused a value the models let through (a NUL byte, an out-of-range number):
    # the caller's input is at fault, not the server. The statement is not logged (values).
    log.warning(
        "database refused an input value on %s %s", request.method, route_template(request.scope)
    )
    return JSONResponse(_body("invalid_value", "a value cannot be stored or searched"), 422)


async def _cache_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # Redis is down or slow: the request may well succeed in a moment, so a 503 that says
    # when to retry, not a 500. Only the error class is logged (messages name hosts).
    log.error(
        "redis unavailable on %s %s (%s)",
        request.method,
        route_template(request.scope),
        type(exc).__name__,
        extra={"code": "cache_unavailable"},
    )
    return JSONResponse(
        _body("cache_unavailable", f"a backing service is unavailable; retry in {RETRY_AFTER_S} s"),
        503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The template, not the concrete path: a path can hold a secret (an MCP or webhook URL).
    log.error(
        "unhandled error on %s %s",
        request.method,
        route_template(request.scope),
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return JSONResponse(_body("internal_error", "internal error"), 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(RedisConnectionError, _cache_unavailable)
    app.add_exception_handler(RedisTimeoutError, _cache_unavailable)
    app.add_exception_handler(Exception, _unexpected)
