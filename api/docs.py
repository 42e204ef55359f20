"""The API's documentation pages, /docs (Swagger UI) and /redoc, served with their scripts and
styles from this process, so they work without internet (FastAPI's defaults load them from a
CDN and render a blank page offline). The files come from the `fastapi-offline` package.

`GET /` sends a visitor to LANDING_PAGE: the one place that decides where the API's root leads.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
# Where `GET /` leads: the web app for people (the API reference is at /docs).
LANDING_PAGE = "/app"


def assets_dir() -> Path:
    """The folder holding Swagger UI's and ReDoc's files, as the package installed them."""
    return Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI, landing_page: str = LANDING_PAGE) -> None:
    """Serve /docs, /docs/oauth2-redirect and /redoc from local files, and `GET /`.

    Build the app with `docs_url=None, redoc_url=None` so FastAPI's CDN pages are not routed.
    """
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title
    oauth2_redirect = "/docs/oauth2-redirect"
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - API docs",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=oauth2_redirect,
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - API reference",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    @app.get("/", include_in_schema=False)
    def landing() -> RedirectResponse:
        return RedirectResponse(landing_page, status_code=307)
