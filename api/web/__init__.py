"""The web app for the people whose data it is, served under /app on the API's origin:
server-rendered pages over the API's services, a cookie session with CSRF tokens, a strict
Content-Security-Policy, charts drawn on the server. Nothing is loaded from another origin."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, Response

from api.errors import NotFoundError
from api.web import routes_account, routes_ai, routes_data, routes_devices, routes_imports
from api.web.render import HERE

static = APIRouter(prefix="/app/static", include_in_schema=False)
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


@static.get("/{name}")
def static_file(name: str) -> Response:
    """The app's own stylesheet, script and icons (no directories, known types only)."""
    path = HERE / "static" / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        raise NotFoundError("no such file")
    return FileResponse(
        path,
        media_type=STATIC_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def install_web(app: FastAPI) -> None:
    """Serve the web app's pages and files on `app`."""
    for router in (
        static,
        routes_account.router,
        routes_devices.router,
        routes_imports.router,
        routes_data.router,
        routes_ai.router,
    ):
        app.include_router(router)
