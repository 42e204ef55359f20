"""Rendering pages: one Jinja2 environment (autoescaped), the security headers every page
carries, and the route class that turns errors into pages instead of JSON."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.errors import ApiError

HERE = Path(__file__).parent
# Everything the pages load comes from this origin: no CDN, no inline script or style.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = format_number
    return env


def format_number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def secure(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` with `context`; `request` gives the current path to the layout."""
    html = environment().get_template(template).render(path=request.url.path, **context)
    return secure(HTMLResponse(html, status_code=status_code))  # type: ignore[return-value]


def redirect(url: str) -> RedirectResponse:
    """After a form: 303 See Other, so a reload does not post again."""
    return secure(RedirectResponse(url, status_code=303))  # type: ignore[return-value]


class SignInRequiredError(Exception):
    """Raised by the page dependencies when the browser has no valid session."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def sign_in_url(next_path: str) -> str:
    safe = (
        next_path
        if next_path.startswith("/app") and not any(bad in next_path for bad in ("//", "\\", ".."))
        else "/app"
    )
    return "/app/signin?next=" + quote(safe, safe="/")


class WebRoute(APIRoute):
    """Pages answer errors with a page (the JSON error shape is for API clients)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequiredError as exc:
                return redirect(sign_in_url(exc.next_path))
            except ApiError as exc:
                response = render(
                    request,
                    "error.html",
                    exc.status_code,
                    error=exc.reason,
                    code=exc.code,
                    user=None,
                )
                for name, value in exc.headers.items():
                    if name.lower() == "retry-after":
                        response.headers[name] = value
                return response

        return page_handler
